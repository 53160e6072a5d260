#!/usr/bin/env bash
# Runs PyGithub (a real GitHub client) against the fake GitHub of the tests (ca-fakes github):
# repository, PR files with pagination, creating a PR, a review with inline comments (and one
# rejected), reviews and comments, issues and issue comments, and the rate limits.
set -euo pipefail
cd "$(dirname "$0")/.."
PYGITHUB_VERSION=2.10.0
venv=.build/pygithub-venv
if ! "$venv/bin/pip" show PyGithub 2>/dev/null | grep -qx "Version: $PYGITHUB_VERSION" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "PyGithub==$PYGITHUB_VERSION"
fi
swift build --product ca-fakes >/dev/null
bin="$(swift build --show-bin-path)/ca-fakes"
work="$(mktemp -d)"
"$bin" github --seconds 300 >"$work/info.json" 2>"$work/stderr" &
fake=$!
trap 'kill "$fake" 2>/dev/null || true; wait "$fake" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do
    [ -s "$work/info.json" ] && break
    kill -0 "$fake" 2>/dev/null || { cat "$work/stderr" >&2; echo "ca-fakes github ended early" >&2; exit 1; }
    sleep 0.1
done
[ -s "$work/info.json" ] || { echo "ca-fakes github printed nothing" >&2; exit 1; }
"$venv/bin/python" scripts/crosscheck_github.py "$work/info.json"

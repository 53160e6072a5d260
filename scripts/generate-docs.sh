#!/usr/bin/env bash
# Generates completions/ (bash, zsh, fish) and man/ca.1 from the argument parser.
# With --check, fails when the committed files differ from freshly generated ones.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0; [ "${1:-}" = "--check" ] && check=1
swift build --product ca >/dev/null
bin="$(swift build --show-bin-path)/ca"
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
mkdir -p "$out/completions" "$out/man"
"$bin" --generate-completion-script bash > "$out/completions/ca.bash"
"$bin" --generate-completion-script zsh > "$out/completions/_ca"
"$bin" --generate-completion-script fish > "$out/completions/ca.fish"
python3 scripts/render-man.py "$bin" > "$out/man/ca.1"
if [ $check -eq 1 ]; then
  if ! diff -ru completions "$out/completions" >/dev/null || ! diff -u man/ca.1 "$out/man/ca.1" >/dev/null; then
    echo "completions/ or man/ca.1 are stale: run scripts/generate-docs.sh and commit the result" >&2
    diff -ru completions "$out/completions" | head -20 >&2 || true
    diff -u man/ca.1 "$out/man/ca.1" | head -20 >&2 || true
    exit 1
  fi
  echo "completions and man page are current"
else
  mkdir -p completions man
  cp "$out"/completions/* completions/
  cp "$out/man/ca.1" man/ca.1
  echo "wrote completions/ and man/ca.1"
fi

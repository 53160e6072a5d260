#!/usr/bin/env bash
# Installs the Debian packages ca needs to build and test, then the pinned Claude Code binary.
set -euo pipefail
cd "$(dirname "$0")/.."
# chromium and chromium-driver: the dashboard's browser tests (Tests/CAServerTests/Browser).
packages=(libsqlite3-dev libcurl4-openssl-dev bubblewrap git chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bash scripts/fetch-claude.sh >/dev/null

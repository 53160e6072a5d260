#!/usr/bin/env bash
# The test command of the README and CI: installs what the tests need, builds, checks that the
# generated completions, man page and OpenAPI code are current, runs every test, then fuzzes
# the served API with schemathesis, runs PyGithub against the fake GitHub and the official Novita
# SDK against the fake Novita service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export CA_CLAUDE_BIN="$PWD/vendor/claude/claude"
swift build --build-tests
bash scripts/generate-docs.sh --check
bash scripts/generate-openapi.sh --check
swift test --skip-build "$@"
bash scripts/schemathesis.sh
bash scripts/crosscheck-github.sh
bash scripts/crosscheck-novita-sdk.sh

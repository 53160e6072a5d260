#!/usr/bin/env bash
# The test command of the README and CI: installs what the tests need, builds, checks that the
# generated completions, man page and OpenAPI code are current, runs every test, then fuzzes
# the served API with schemathesis (the dashboard's browser tests are among the tests, with
# screenshots kept under test-artifacts/), runs PyGithub against the fake GitHub and the official Novita
# SDK against the fake Novita service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export CA_CLAUDE_BIN="$PWD/vendor/claude/claude"
swift build --build-tests
bash scripts/generate-docs.sh --check
bash scripts/generate-openapi.sh --check
# Screenshots of the dashboard's browser tests (and anything else a test keeps) go into one
# folder per run.
export CA_TEST_ARTIFACTS="${CA_TEST_ARTIFACTS:-$PWD/test-artifacts/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$CA_TEST_ARTIFACTS"
echo "test artifacts: $CA_TEST_ARTIFACTS"
swift test --skip-build "$@"
bash scripts/schemathesis.sh
bash scripts/crosscheck-github.sh
bash scripts/crosscheck-novita-sdk.sh

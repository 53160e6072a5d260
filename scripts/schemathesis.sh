#!/usr/bin/env bash
# Runs schemathesis (PyPI, pinned below) against a real `ca serve` on 127.0.0.1, reading the
# document the server itself serves at /openapi.yaml, with a real API key from `ca keys create`.
# Fails on any 5xx, any response that breaks the document (status, content type, headers,
# schema), any schema-invalid request the server accepts, and wrong answers to unknown methods.
# `positive_data_acceptance` is left out: the document cannot say which repository URLs a
# server takes (that depends on --allow-local-repos) or which cursors it gave out, so some
# schema-valid requests rightly get 400/422.
# The server has dummy credentials, and Novita and GitHub endpoints on a closed loopback port: tasks the
# fuzzer creates are accepted, queued and fail at once, and nothing leaves this machine.
# Needs a built `ca` (swift build). SCHEMATHESIS_SEED overrides the fixed seed.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.32.5
ca="$(swift build --show-bin-path)/ca"
[ -x "$ca" ] || { echo "build ca first (swift build)" >&2; exit 1; }

st=st
if ! command -v st >/dev/null || [ "$(st --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)" != "$version" ]; then
  venv=.build/schemathesis-venv
  if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q "schemathesis==$version"
  fi
  st="$venv/bin/st"
fi

work="$(mktemp -d)"; server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export CA_HOME="$work/home"
key="$("$ca" keys create schemathesis --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
env ANTHROPIC_API_KEY=sk-ant-schemathesis-dummy NOVITA_API_KEY=schemathesis-dummy \
    NOVITA_API_URL=http://127.0.0.1:9 NOVITA_SANDBOX_URL=http://127.0.0.1:9 \
    GITHUB_SERVER_URL=http://127.0.0.1:9 GITHUB_API_URL=http://127.0.0.1:9/api/v3 \
    "$ca" serve --port 0 >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  port="$(grep -ao 'serving on http://127.0.0.1:[0-9]*' "$work/serve.log" | grep -o '[0-9]*$' || true)"
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; echo "ca serve did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/serve.log" >&2; echo "ca serve did not start" >&2; exit 1; }

status=0
"$st" run "http://127.0.0.1:$port/openapi.yaml" \
  --header "Authorization: Bearer $key" \
  --exclude-checks positive_data_acceptance \
  --max-examples 50 --request-timeout 10 \
  --seed "${SCHEMATHESIS_SEED:-20261203}" \
  --no-color || status=$?
# Nothing the fuzzer sent may have crashed or wedged the server.
python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=10)" "http://127.0.0.1:$port/healthz" 2>/dev/null || { echo "ca serve stopped answering" >&2; status=1; }
exit $status

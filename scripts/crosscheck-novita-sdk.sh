#!/usr/bin/env bash
# Run by scripts/test.sh (CI) after the tests (about 15 s with a warm build): proves that the fake Novita service (Tests/CATestSupport/FakeNovita*)
# speaks the same wire protocol as the real service, by running the official Python SDK
# (novita-sandbox 2.1.1, from PyPI) against it.
#
#   scripts/crosscheck-novita-sdk.sh            # needs python3 with venv, and PyPI access once
#
# Starts the fake with the ca-fakes tool (Tests/FakeServices), points the SDK at it with
# NOVITA_API_URL / NOVITA_SANDBOX_URL, and exercises create, commands.run (output, stderr, exit codes,
# background + stdin + kill), files write/read (text and binary), list with a metadata filter,
# connect, set_timeout, pause + connect (resume) and kill. The fake's request log is kept for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d "${TMPDIR:-/tmp}/novita-crosscheck.XXXXXX")"
info="$work/fake.json"
server_pid=""
cleanup() {
    touch "$info.stop" 2>/dev/null || true
    if [[ -n "$server_pid" ]]; then wait "$server_pid" 2>/dev/null || true; fi
    echo "work folder (venv, logs): $work"
}
trap cleanup EXIT

echo "== installing novita-sandbox==2.1.1 into $work/venv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "novita-sandbox==2.1.1"

echo "== building and starting the fake"
swift build --product ca-fakes >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
NOVITA_FAKE_SERVE_SECONDS=900 "$(swift build --show-bin-path)/ca-fakes" novita "$info" >"$work/fake.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
    [[ -s "$info" ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/fake.log"; exit 1; fi
    sleep 0.1
done
[[ -s "$info" ]] || { echo "the fake did not start"; cat "$work/fake.log"; exit 1; }
cat "$info"; echo

base_url="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["baseURL"])' "$info")"
api_key="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["apiKey"])' "$info")"

echo "== running the SDK against $base_url"
status=0
env -u NOVITA_DOMAIN -u NOVITA_DEBUG \
    NOVITA_API_KEY="$api_key" NOVITA_API_URL="$base_url" NOVITA_SANDBOX_URL="$base_url" \
    "$work/venv/bin/python" - <<'PY' || status=$?
import os, time
from novita_sandbox.core import Sandbox, SandboxQuery, CommandExitException, SandboxNotFoundException

checks = []
def check(name, condition, detail=""):
    checks.append((name, bool(condition)))
    print(("PASS " if condition else "FAIL ") + name + ("" if condition else f"  [{detail}]"), flush=True)

sbx = Sandbox.create(timeout=120, metadata={"owner": "c a", "purpose": "crosscheck"}, envs={"GREETING": "hi"})
check("create returns an id", bool(sbx.sandbox_id), sbx.sandbox_id)

r = sbx.commands.run("echo hello $GREETING; echo oops >&2")
check("run: stdout", r.stdout == "hello hi\n", repr(r.stdout))
check("run: stderr", r.stderr == "oops\n", repr(r.stderr))
check("run: exit 0", r.exit_code == 0, r.exit_code)

try:
    sbx.commands.run("echo partial; exit 3")
    check("run: non-zero exit raises", False, "no exception")
except CommandExitException as e:
    check("run: non-zero exit raises", e.exit_code == 3 and e.stdout == "partial\n", f"{e.exit_code} {e.stdout!r}")

seen = []
r = sbx.commands.run("for i in 1 2 3; do echo line$i; sleep 0.2; done", on_stdout=lambda s: seen.append((time.monotonic(), s)))
check("run: streamed callbacks", "".join(s for _, s in seen) == "line1\nline2\nline3\n" and len(seen) == 3, seen)

r = sbx.commands.run("pwd; echo $HOME", cwd="/home/user")
check("run: cwd and home", r.stdout.split() == ["/home/user", "/home/user"], repr(r.stdout))

h = sbx.commands.run("cat", background=True, stdin=True)
sbx.commands.send_stdin(h.pid, "typed\n")
time.sleep(0.5)
killed = h.kill()
try:
    res = h.wait()
    check("background + stdin + kill", False, f"wait returned {res}")
except CommandExitException as e:
    check("background + stdin + kill", killed and e.stdout == "typed\n" and e.exit_code == -1, f"{killed} {e.stdout!r} {e.exit_code} {e.error}")

info = sbx.files.write("/home/user/dir/x.txt", "content")
check("files.write", info.path == "/home/user/dir/x.txt" and info.name == "x.txt", info)
check("files.read", sbx.files.read("/home/user/dir/x.txt") == "content")
blob = bytes(range(256)) * 4096
sbx.files.write("blob.bin", blob)
check("files binary round trip", bytes(sbx.files.read("blob.bin", format="bytes")) == blob)
r = sbx.commands.run("cat dir/x.txt; echo; wc -c < blob.bin")
check("process sees uploaded files", r.stdout.split() == ["content", str(len(blob))], repr(r.stdout))
entries = sbx.files.list("/home/user")
check("files.list", sorted(e.name for e in entries) == ["blob.bin", "dir"], [e.name for e in entries])
check("files.exists", sbx.files.exists("dir/x.txt") and not sbx.files.exists("nope"))
check("files.make_dir", sbx.files.make_dir("/home/user/new/sub") is True and sbx.files.make_dir("/home/user/new/sub") is False)
moved = sbx.files.rename("/home/user/dir/x.txt", "/home/user/dir/y.txt")
check("files.rename", moved.path == "/home/user/dir/y.txt", moved)
sbx.files.remove("/home/user/dir")
check("files.remove", not sbx.files.exists("/home/user/dir"))

other = Sandbox.create(timeout=60, metadata={"owner": "someone"})
page = Sandbox.list(query=SandboxQuery(metadata={"owner": "c a"}))
items = page.next_items()
check("list with metadata filter", [s.sandbox_id for s in items] == [sbx.sandbox_id], [s.sandbox_id for s in items])
check("list: metadata", items and items[0].metadata == {"owner": "c a", "purpose": "crosscheck"}, items and items[0].metadata)
paged = Sandbox.list(limit=1)
first = paged.next_items()
second = paged.next_items() if paged.has_next else []
check("list pagination", len(first) == 1 and len(second) == 1 and not paged.has_next, (first, second))

again = Sandbox.connect(sbx.sandbox_id)
r = again.commands.run("echo via connect")
check("connect + run", r.stdout == "via connect\n", repr(r.stdout))
sbx.set_timeout(90)
check("set_timeout + get_info", sbx.get_info().sandbox_id == sbx.sandbox_id)

# Pause and resume (what ca's --keep-alive does): pause (and pause again: 409 counts as success),
# state "paused" in get_info and the list, a command fails while paused, and connect resumes it
# with its files.
from novita_sandbox.core import SandboxState
sbx.files.write("/home/user/kept.txt", "kept across the pause")
sbx.pause()
check("pause", True)
Sandbox.pause(sbx.sandbox_id)
check("pause again (409 is success)", True)
check("get_info: paused", Sandbox.get_info(sbx.sandbox_id).state == SandboxState.PAUSED, Sandbox.get_info(sbx.sandbox_id).state)
paused_ids = [s.sandbox_id for s in Sandbox.list(query=SandboxQuery(state=[SandboxState.PAUSED])).next_items()]
check("list: paused state", paused_ids == [sbx.sandbox_id], paused_ids)
try:
    sbx.commands.run("echo while paused", request_timeout=10)
    check("envd refuses while paused", False, "ran")
except Exception:
    check("envd refuses while paused", True)
resumed = Sandbox.connect(sbx.sandbox_id)
check("connect resumes", Sandbox.get_info(sbx.sandbox_id).state == SandboxState.RUNNING, Sandbox.get_info(sbx.sandbox_id).state)
check("files kept across pause", resumed.files.read("/home/user/kept.txt") == "kept across the pause")
check("run after resume", resumed.commands.run("echo back").stdout == "back\n")

check("kill", Sandbox.kill(sbx.sandbox_id) is True)
check("kill again", Sandbox.kill(sbx.sandbox_id) is False)
other.kill()
try:
    Sandbox.connect(sbx.sandbox_id)
    check("connect after kill", False, "connected")
except Exception as e:
    check("connect after kill", isinstance(e, (SandboxNotFoundException,)) or "not found" in str(e).lower(), repr(e))

failed = [name for name, ok in checks if not ok]
print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
raise SystemExit(1 if failed else 0)
PY

touch "$info.stop"
wait "$server_pid" || true
server_pid=""
echo "== fake request log: $info.log ($(wc -l <"$info.log" 2>/dev/null || echo 0) requests)"
exit "$status"

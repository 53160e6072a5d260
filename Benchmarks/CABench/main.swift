import AgentCore
import CATestSupport
import Foundation
import SandboxClient

// ca-bench: measures ca's own costs, each reported with a baseline measured in the same run.
//   swift build -c release --static-swift-stdlib --scratch-path .build-release --product ca (then --product ca-bench)
//   .build-release/release/ca-bench [--quick]
// Only loopback addresses are used (the fake Anthropic API on 127.0.0.1).

let quick = CommandLine.arguments.contains("--quick")
let binFolder = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    .deletingLastPathComponent()
let caBinary = binFolder.appendingPathComponent("ca").path
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ca-bench-\(UUID().uuidString.prefix(8))")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: scratch) }

// `--follow-up-only`: just the follow-up latency of --keep-alive (FollowUpLatency.swift).
if CommandLine.arguments.contains("--follow-up-only") {
    try await runFollowUpBenchmark(runs: quick ? 1 : 5, scratch: scratch)
    try? FileManager.default.removeItem(at: scratch)
    exit(0)
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Wall time of one run of a program, in ms. Uses posix_spawn directly: Foundation's Process
/// adds tens of milliseconds of its own here, which would hide what is being measured.
func timeProcess(_ path: String, _ args: [String], env: [String: String]) throws -> Double {
    try spawnAndWait(path, args, env: env).ms
}

/// Runs a program to its end with posix_spawn: wall time in ms, exit status (128 + signal when
/// killed), stdout (into a file, when `stdoutPath` is given, else /dev/null; stderr likewise).
func spawnAndWait(_ path: String, _ args: [String], env: [String: String], stdoutPath: String? = nil,
                  stderrPath: String? = nil) throws -> (ms: Double, status: Int32) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var argv = ([path] + args).map { strdup($0) } + [nil]
    var envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in argv + envp where p != nil { free(p) } }
    var pid = pid_t()
    let start = DispatchTime.now().uptimeNanoseconds
    guard posix_spawn(&pid, path, &actions, nil, &argv, &envp) == 0 else { throw CocoaError(.executableLoad) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    return (elapsed, status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F))
}

func ms(_ x: Double) -> String { String(format: "%.1f ms", x) }

// MARK: 1. Start-up: `ca --version` and `ca task list` on 10,000 tasks.
do {
    let home = scratch.appendingPathComponent("list-home")
    let store = try TaskStore(path: home.appendingPathComponent("ca.sqlite").path)
    let count = 10_000
    try await store.writeRaw { db in
        for i in 0..<count {
            var t = TaskRecord(id: TaskID.make(now: Date(timeIntervalSince1970: 1_760_000_000 + Double(i))), prompt: "Benchmark task \(i): fix the bug",
                               repositoryURL: "https://example.invalid/r.git", sandboxBackend: .local, timeoutSeconds: 3600,
                               createdAt: Date(timeIntervalSince1970: 1_760_000_000 + Double(i)))
            t.status = i % 3 == 0 ? .failed : .succeeded
            t.costUSD = 0.01 * Double(i % 50)
            try t.insert(db)
        }
    }
    var env = ProcessInfo.processInfo.environment
    env["CA_HOME"] = home.path
    let runs = quick ? 5 : 20
    var trueTimes: [Double] = [], versionTimes: [Double] = [], listTimes: [Double] = []
    _ = try timeProcess(caBinary, ["task", "list"], env: env) // warm the page cache
    for _ in 0..<runs {
        trueTimes.append(try timeProcess("/bin/true", [], env: env))
        versionTimes.append(try timeProcess(caBinary, ["--version"], env: env))
        listTimes.append(try timeProcess(caBinary, ["task", "list"], env: env))
    }
    let base = median(trueTimes)
    print("start-up (median of \(runs) runs, \(count) tasks in the store)")
    print("  baseline /bin/true          \(ms(base))")
    print("  ca --version                \(ms(median(versionTimes)))  (\(String(format: "%.1f", median(versionTimes) / base))x baseline)")
    print("  ca task list                \(ms(median(listTimes)))  (\(String(format: "%.1f", median(listTimes) / base))x baseline)")
}

// MARK: 1b. Durable status changes: synchronous=FULL (status transitions) against NORMAL (heartbeats).
do {
    let home = scratch.appendingPathComponent("durable-home")
    let store = try TaskStore(path: home.appendingPathComponent("ca.sqlite").path)
    try await store.insert(TaskRecord(id: "durable", prompt: "p", repositoryURL: "r", sandboxBackend: .local, timeoutSeconds: 60))
    let updates = quick ? 100 : 500
    var normal: [Double] = [], durable: [Double] = []
    for round in 0..<(quick ? 2 : 5) {
        for isDurable in (round % 2 == 0 ? [false, true] : [true, false]) {
            let start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<updates {
                try await store.update("durable", durable: isDurable) { $0.numTurns = i }
            }
            let perUpdate = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(updates)
            if isDurable { durable.append(perUpdate) } else { normal.append(perUpdate) }
        }
    }
    print("status change durability (median of interleaved rounds of \(updates) updates)")
    print("  synchronous=NORMAL (baseline)  \(String(format: "%.3f", median(normal))) ms per update")
    print("  synchronous=FULL               \(String(format: "%.3f", median(durable))) ms per update  (\(String(format: "%.1f", median(durable) / median(normal)))x baseline)")
}

// MARK: 2. Event ingestion: stream-json lines parsed and stored per second.
do {
    let home = scratch.appendingPathComponent("ingest-home")
    let store = try TaskStore(path: home.appendingPathComponent("ca.sqlite").path)
    try await store.insert(TaskRecord(id: "bench", prompt: "p", repositoryURL: "r", sandboxBackend: .local, timeoutSeconds: 60))
    let samples = [
        #"{"type":"assistant","message":{"id":"msg_1","role":"assistant","content":[{"type":"text","text":"Let me look at the failing test and fix the bug in the parser."}],"stop_reason":null},"parent_tool_use_id":null,"session_id":"0b7d9f7e-1111-2222-3333-444455556666"}"#,
        #"{"type":"assistant","message":{"id":"msg_2","role":"assistant","content":[{"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"swift test --filter ParserTests","description":"Run tests"}}],"stop_reason":null},"parent_tool_use_id":null,"session_id":"0b7d9f7e-1111-2222-3333-444455556666"}"#,
        #"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"Test Suite passed\nExecuted 12 tests","is_error":false}]},"parent_tool_use_id":null,"session_id":"0b7d9f7e-1111-2222-3333-444455556666","tool_use_result":{"stdout":"Test Suite passed","stderr":"","interrupted":false}}"#,
    ]
    let total = quick ? 30_000 : 200_000
    var blob = Data()
    for i in 0..<total { blob.append(Data(samples[i % samples.count].utf8)); blob.append(0x0A) }
    let chunk = 64 * 1024
    // Baseline: split and parse only, no storage.
    var parsed = 0
    var start = DispatchTime.now().uptimeNanoseconds
    var splitter = LineSplitter()
    var offset = 0
    while offset < blob.count {
        for case .line(let line) in splitter.append(blob.subdata(in: offset..<min(offset + chunk, blob.count))) where AgentEvent.parse(line) != nil { parsed += 1 }
        offset += chunk
    }
    let parseSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    // ca: split, parse, redact and store in SQLite (one transaction per chunk, as the runner does).
    let ingestor = EventIngestor(store: store, taskID: "bench", redactor: SecretRedactor(secrets: ["sk-ant-bench-secret-value"]))
    start = DispatchTime.now().uptimeNanoseconds
    offset = 0
    while offset < blob.count {
        try await ingestor.ingest(blob.subdata(in: offset..<min(offset + chunk, blob.count)))
        offset += chunk
    }
    let storeSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let stored = try await store.lastSequence(taskID: "bench")
    print("event ingestion (\(total) stream-json lines, 64 KiB chunks)")
    print("  baseline parse only         \(Int(Double(parsed) / parseSeconds)) lines/s")
    print("  parse + redact + store      \(Int(Double(stored) / storeSeconds)) lines/s  (\(String(format: "%.2f", (Double(stored) / storeSeconds) / (Double(parsed) / parseSeconds)))x baseline; target >= 20000)")
}

// MARK: 3. Orchestration overhead of one task (real Claude Code, fake API), local and Novita backends.
func measureTasks(backend: String, extraEnvironment: [String: String], runs: Int) async throws -> [[String: Double]] {
    let script: [ScriptedTurn] = [
        .toolUse("Write", ["file_path": "{{cwd}}/hello.txt", "content": "hi\n"]),
        .toolUse("Bash", ["command": "cat hello.txt"]),
        .text("done"),
    ]
    let fake = FakeAnthropicServer(script: [])
    try await fake.start()
    defer { Task { try? await fake.stop() } }
    let fixture = try GitFixture.make(in: scratch.appendingPathComponent("git-\(backend)"))
    var env = ProcessInfo.processInfo.environment
    env["CA_HOME"] = scratch.appendingPathComponent("task-home-\(backend)").path
    env["ANTHROPIC_API_KEY"] = "sk-ant-bench"
    env["ANTHROPIC_BASE_URL"] = fake.baseURL.absoluteString
    env["CLAUDE_CODE_MAX_RETRIES"] = "0"
    env["CA_SANDBOX"] = backend
    if env["CA_CLAUDE_BIN"] == nil { env["CA_CLAUDE_BIN"] = try ClaudeBinary.locate().path }
    if env["CA_HELPER_BIN"] == nil { env["CA_HELPER_BIN"] = CABinary.path }
    env.merge(extraEnvironment) { _, new in new }
    let service = try TaskService(environment: env)
    var rows: [[String: Double]] = []
    for i in 0..<runs {
        fake.append(script)
        let task = try await service.create(TaskRequest(prompt: "write hello", repository: fixture.bare.path, timeoutSeconds: 300))
        let marks = PhaseMarks()
        let runner = try service.makeRunner(for: task) { progress in
            switch progress {
            case .step(let name, let message): marks.mark(name, message)
            case .agent: marks.firstAgentEvent()
            case .finished: break
            }
        }
        let start = Date()
        let done = await runner.run(taskID: task.id)
        let total = Date().timeIntervalSince(start)
        guard done.status == .succeeded else { print("  \(backend) run \(i) failed: \(done.error ?? "?")"); continue }
        var row = marks.durations()
        row["total"] = total
        rows.append(row)
    }
    return rows
}

func report(_ title: String, _ rows: [[String: Double]]) {
    func med(_ k: String) -> Double { median(rows.compactMap { $0[k] }) * 1000 }
    let agent = med("agent"), total = med("total")
    print("\(title) (median of \(rows.count) runs)")
    print("  agent process (baseline)    \(ms(agent))")
    print("  sandbox create              \(ms(med("sandbox")))")
    print("  clone                       \(ms(med("clone")))")
    print("  extraction                  \(ms(med("extract")))")
    print("  teardown                    \(ms(med("teardown")))")
    print("  sandbox ready → 1st event   \(ms(med("firstEvent")))")
    print("  total                       \(ms(total))  overhead \(ms(total - agent)) = \(String(format: "%.2f", (total - agent) / agent))x the agent's own time")
}

do {
    let runs = quick ? 1 : 5
    report("one task on the local backend, orchestration overhead", try await measureTasks(backend: "local", extraEnvironment: [:], runs: runs))
    let novita = FakeNovitaService(options: .init(templateTools: ["claude": try ClaudeBinary.locate().path]))
    try await novita.start()
    report("one task on the novita backend (fake Novita service on 127.0.0.1)",
           try await measureTasks(backend: "novita", extraEnvironment: novita.environment(), runs: runs))
    print("  live sandboxes left on the fake: \(novita.liveSandboxCount)")
    try await novita.stop()
}

// MARK: 4. Task overhead of the hardening: the old local sandbox against the hardened one.

/// The local backend's bubblewrap command line before the hardening (commit d61c9fd): the whole
/// host read-only, the host network, root, the API key in the agent's environment.
func oldSandboxArguments(folder: String, hidden: [String], cwd: String, temporary: String) -> [String] {
    var arguments = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    if geteuid() == 0 {
        for name in ["sys", "sysrq-trigger", "irq", "bus"] { arguments += ["--ro-bind-try", "/proc/" + name, "/proc/" + name] }
    }
    arguments += ["--tmpfs", "/home", "--bind", folder + "/home", "/home/user", "--bind", folder + "/tmp", "/tmp"]
    for path in hidden { arguments += ["--tmpfs", path] }
    for path in ["/home"] + hidden { arguments += ["--remount-ro", path] }
    arguments += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    arguments += ["--setenv", "TMPDIR", temporary, "--unsetenv", "CA_SANDBOX_LAUNCH_" + String(UInt64.random(in: 1...UInt64.max), radix: 16)]
    return arguments + ["--chdir", cwd, "--"]
}

/// The old sandbox's base environment (the agent's variables go on top): the standard `PATH`
/// followed by the host's other entries, as both versions of the backend build it.
let oldSandboxPath = ("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? ""))
    .split(separator: ":").map(String.init)
    .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.joined(separator: ":")
let oldSandboxEnvironment = ["PATH": oldSandboxPath, "HOME": "/home/user", "USER": "user", "LANG": "C.UTF-8", "TMPDIR": "/tmp"]

/// The same workspace in both kinds of sandbox: a one-commit git repository at /home/user/repo
/// and the agent's private folders.
let workspaceScript = """
    set -e
    mkdir -p /home/user/.ca/home /home/user/.ca/claude /tmp/ca-agent
    git init -q -b main /home/user/repo
    cd /home/user/repo
    printf '# Demo\\n' > README.md
    mkdir src
    printf 'version 1\\n' > src/app.txt
    git add -A
    git -c user.name=Bench -c user.email=bench@example.invalid commit -q -m initial
    """

/// Whether Claude Code's stream-json output ends in a successful `result` event.
func succeeded(_ output: String) -> Bool {
    output.split(separator: "\n").contains { $0.contains(#""type":"result""#) && $0.contains(#""is_error":false"#) }
}

func percent(_ ratio: Double) -> String { String(format: "%+.1f%%", (ratio - 1) * 100) }
func ratio(_ x: Double, _ base: Double) -> String { String(format: "%.2fx", x / base) }

do {
    let runs = quick ? 2 : 5
    let claude = (try ClaudeBinary.locate().path as NSString).resolvingSymlinksInPath
    let bubblewrap = "/usr/bin/bwrap"
    let hostHome = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
    let oldHidden = [hostHome].filter { $0.hasPrefix("/") && $0 != "/" && !$0.hasPrefix("/home") && !$0.hasPrefix("/tmp") && FileManager.default.fileExists(atPath: $0) }
    let script: [ScriptedTurn] = [
        .toolUse("Write", ["file_path": "{{cwd}}/hello.txt", "content": "hi\n"]),
        .toolUse("Bash", ["command": "cat hello.txt && git status --short"]),
        .text("done"),
    ]
    let fake = FakeAnthropicServer(script: [])
    try await fake.start()
    let credentials = AgentCredentials(apiKey: "sk-ant-bench", baseURL: fake.baseURL.absoluteString)
    let passthrough = ["CLAUDE_CODE_MAX_RETRIES": "0"]
    let root = scratch.appendingPathComponent("hardening")
    let provider = LocalSandboxProvider(root: root.appendingPathComponent("sandboxes").path, hiddenPaths: [root.path, hostHome],
                                        exposedPaths: [claude], helperExecutable: caBinary)
    let offlineProvider = LocalSandboxProvider(root: root.appendingPathComponent("sandboxes").path, hiddenPaths: [root.path, hostHome],
                                               exposedPaths: [claude])
    let taskNetwork = SandboxNetwork(access: .allowlist([]), services: [credentials.gatewayService])

    /// An old-style sandbox folder (home and tmp) with the workspace prepared by the old bwrap.
    var oldCount = 0
    var oldCreateTimes: [Double] = [], oldRemoveTimes: [Double] = []
    func makeOldSandbox() throws -> String {
        oldCount += 1
        let folder = root.appendingPathComponent("old-\(oldCount)").path
        let clock = ContinuousClock.now
        for name in ["home", "tmp"] { try FileManager.default.createDirectory(atPath: folder + "/" + name, withIntermediateDirectories: true) }
        _ = chmod(folder + "/tmp", 0o1777)
        oldCreateTimes.append(milliseconds(ContinuousClock.now - clock))
        let prepared = try spawnAndWait(bubblewrap, oldSandboxArguments(folder: folder, hidden: oldHidden, cwd: "/home/user", temporary: "/tmp")
                                        + ["/bin/bash", "-c", workspaceScript], env: oldSandboxEnvironment)
        guard prepared.status == 0 else { throw GitFixture.Failure(description: "old sandbox: workspace preparation failed (\(prepared.status))") }
        return folder
    }

    var oldTimes: [Double] = [], newTimes: [Double] = [], createTimes: [Double] = [], teardownTimes: [Double] = []
    /// A: the old way, started here with posix_spawn.
    func runOld(_ i: Int) async throws {
        let folder = try makeOldSandbox()
        fake.append(script)
        let oldInvocation = AgentInvocation(executable: claude, prompt: "write hello", credentials: credentials, passthroughEnvironment: passthrough)
        let oldCommand = oldInvocation.command
        let oldEnvironment = oldSandboxEnvironment.merging(oldCommand.environment) { _, new in new }
        let arguments = oldSandboxArguments(folder: folder, hidden: oldHidden, cwd: oldCommand.cwd ?? "/home/user",
                                            temporary: oldEnvironment["TMPDIR"] ?? "/tmp") + [oldCommand.executable] + oldCommand.arguments
        let outputPath = folder + "/agent.out"
        let old = try await BlockingWork.run { try spawnAndWait(bubblewrap, arguments, env: oldEnvironment, stdoutPath: outputPath) }
        let oldOutput = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        if old.status == 0 && succeeded(oldOutput) { oldTimes.append(old.ms) } else { print("  A run \(i) failed (exit \(old.status))") }
        let clock = ContinuousClock.now
        try? FileManager.default.removeItem(atPath: folder)
        oldRemoveTimes.append(milliseconds(ContinuousClock.now - clock))
    }
    /// B: the hardened sandbox from LocalSandboxProvider, the API through the gateway.
    func runNew(_ i: Int) async throws {
        var clock = ContinuousClock.now
        let sandbox = try await provider.create(SandboxSpec(lifetime: 900, network: taskNetwork))
        createTimes.append(milliseconds(ContinuousClock.now - clock))
        let prepared = try await sandbox.run(script: workspaceScript)
        guard prepared.exit.succeeded else { print("  B workspace preparation failed: \(prepared.stderrText)"); try await sandbox.kill(); return }
        fake.append(script)
        let invocation = AgentInvocation(executable: claude, prompt: "write hello", credentials: credentials, passthroughEnvironment: passthrough,
                                         gateway: sandbox.networkGateway, layout: SandboxLayout(home: sandbox.homeDirectory))
        clock = ContinuousClock.now
        let result = try await sandbox.start(invocation.command).collect()
        let elapsed = ContinuousClock.now - clock
        if result.exit.succeeded && succeeded(result.stdoutText) { newTimes.append(milliseconds(elapsed)) } else {
            print("  B run \(i) failed (\(result.exit.status)): \(result.stderrText.suffix(300))")
        }
        clock = ContinuousClock.now
        try await sandbox.kill()
        teardownTimes.append(milliseconds(ContinuousClock.now - clock))
    }
    // Interleaved, alternating which goes first.
    for i in 0..<runs {
        if i % 2 == 0 { try await runOld(i); try await runNew(i) } else { try await runNew(i); try await runOld(i) }
    }
    try? await fake.stop()

    let a = median(oldTimes), b = median(newTimes)
    let aAll = a + median(oldCreateTimes) + median(oldRemoveTimes), bAll = b + median(createTimes) + median(teardownTimes)
    print("task overhead of the hardening (the same real Claude Code run: Write, Bash, text; fake API on 127.0.0.1; median of \(runs) interleaved runs)")
    func spread(_ xs: [Double]) -> String { String(format: "runs %.0f–%.0f ms", xs.min() ?? 0, xs.max() ?? 0) }
    print("  A old sandbox (--ro-bind / /, host network, root, key in env)     \(ms(a))  (baseline; \(spread(oldTimes)))")
    print("  B hardened (minimal root, own netns, nobody, API via gateway)     \(ms(b))  (\(ratio(b, a)) A, \(percent(b / a)); goal <= +10%: \(b / a <= 1.10 ? "met" : "NOT met"); \(spread(newTimes)))")
    print("  with sandbox create + kill: A \(ms(aAll)), B \(ms(bAll))  (\(ratio(bAll, aAll)) A, \(percent(bAll / aAll)); B create \(ms(median(createTimes))), kill \(ms(median(teardownTimes))))")

    // Per-command launch cost: `true` in each kind of sandbox, interleaved.
    let launches = 30
    let oldFolder = try makeOldSandbox()
    let sandbox = try await provider.create(SandboxSpec(lifetime: 900, network: taskNetwork))
    let offline = try await offlineProvider.create(SandboxSpec(lifetime: 900))
    let plain = try await LocalSandboxProvider(root: root.appendingPathComponent("plain").path, isolation: .none).create(SandboxSpec(lifetime: 900))
    let trueCommand = CommandSpec(executable: "/usr/bin/true")
    func timed(_ sandbox: any Sandbox) async throws -> Double {
        let clock = ContinuousClock.now
        let result = try await sandbox.run(trueCommand)
        guard result.exit.succeeded else { throw GitFixture.Failure(description: "true failed in \(sandbox.id): \(result.stderrText)") }
        return milliseconds(ContinuousClock.now - clock)
    }
    let oldTrue = oldSandboxArguments(folder: oldFolder, hidden: oldHidden, cwd: "/home/user", temporary: "/tmp") + ["/usr/bin/true"]
    var oldLaunch: [Double] = [], newLaunch: [Double] = [], offlineLaunch: [Double] = [], plainLaunch: [Double] = [], spawnTrue: [Double] = []
    _ = try timeProcess(bubblewrap, oldTrue, env: oldSandboxEnvironment)
    _ = try await timed(sandbox)
    for _ in 0..<launches {
        oldLaunch.append(try timeProcess(bubblewrap, oldTrue, env: oldSandboxEnvironment))
        newLaunch.append(try await timed(sandbox))
        offlineLaunch.append(try await timed(offline))
        plainLaunch.append(try await timed(plain))
        spawnTrue.append(try timeProcess("/usr/bin/true", [], env: oldSandboxEnvironment))
    }
    let oldMedian = median(oldLaunch)
    print("per-command launch cost (`/usr/bin/true`, median of \(launches) interleaved runs)")
    print("  A old bwrap (posix_spawn)               \(ms(oldMedian))  (baseline)")
    print("  B hardened, with gateway bridge         \(ms(median(newLaunch)))  (\(ratio(median(newLaunch), oldMedian)) A)")
    print("  B hardened, offline (no bridge)         \(ms(median(offlineLaunch)))  (\(ratio(median(offlineLaunch), oldMedian)) A)")
    print("  ca's own spawn plumbing (part of B)     \(ms(median(plainLaunch) - median(spawnTrue)))  (no isolation through LocalSandbox \(ms(median(plainLaunch))) - posix_spawn \(ms(median(spawnTrue))))")
    try await sandbox.kill()
    try await offline.kill()
    try await plain.kill()
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

// MARK: 5. Gateway throughput: one streamed response, read directly and through the gateway.
do {
    let size = (quick ? 64 : 256) << 20
    let runs = quick ? 2 : 5
    let piece = Data(repeating: 0x61, count: 256 << 10)
    let server = LoopbackHTTPServer { _, writer in
        do {
            try await writer.writeHead(status: 200, headers: [("content-type", "application/octet-stream")])
            var sent = 0
            while sent < size {
                try await writer.write(sent + piece.count <= size ? piece : piece.prefix(size - sent))
                sent += piece.count
            }
            try await writer.end()
        } catch {}
    }
    try await server.start()
    let root = scratch.appendingPathComponent("throughput")
    let provider = LocalSandboxProvider(root: root.appendingPathComponent("sandboxes").path, helperExecutable: caBinary)
    let serviceSandbox = try await provider.create(SandboxSpec(lifetime: 900, network: SandboxNetwork(
        access: .none, services: [GatewayService(name: "bench", upstream: server.baseURL, headers: ["x-bench": "1"])])))
    let openSandbox = try await provider.create(SandboxSpec(lifetime: 900, network: SandboxNetwork(access: .open)))
    let target = "http://127.0.0.1:\(server.port)/stream"
    let curlFormat = ["-s", "-S", "-o", "/dev/null", "-w", "%{size_download} %{time_total}"]

    /// MB/s (10^6 bytes) from curl's `size time` line; `nil` (and a note) when the size is wrong.
    func rate(_ label: String, _ output: String) -> Double? {
        let parts = output.split(separator: " ")
        guard parts.count == 2, let bytes = Double(parts[0]), let seconds = Double(parts[1]), Int(bytes) == size, seconds > 0 else {
            print("  \(label): unexpected curl output '\(output.prefix(200))'")
            return nil
        }
        return bytes / seconds / 1e6
    }
    func onHost(_ label: String, _ arguments: [String]) async throws -> Double? {
        let outputPath = root.appendingPathComponent("curl.out").path
        _ = try await BlockingWork.run { try spawnAndWait("/usr/bin/curl", curlFormat + arguments, env: ["PATH": "/usr/bin:/bin"], stdoutPath: outputPath) }
        return rate(label, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }
    func inSandbox(_ label: String, _ sandbox: any Sandbox, _ arguments: [String]) async throws -> Double? {
        let result = try await sandbox.run(CommandSpec(executable: "/usr/bin/curl", arguments: curlFormat + arguments))
        return rate(label, result.stdoutText + (result.exit.succeeded ? "" : " (\(result.exit.status): \(result.stderrText))"))
    }
    let socketPath = ((serviceSandbox as? LocalSandbox)?.hostFolder ?? "") + "/gateway.sock"
    let hasSocket = FileManager.default.fileExists(atPath: socketPath)
    var direct: [Double] = [], service: [Double] = [], serviceNoBridge: [Double] = [], proxied: [Double] = [], tunnel: [Double] = []
    for _ in 0..<runs {
        if let x = try await onHost("A direct", [target]) { direct.append(x) }
        if let x = try await inSandbox("B service", serviceSandbox, ["http://127.0.0.1:3128/bench/stream"]) { service.append(x) }
        if hasSocket, let x = try await onHost("B' service, host to socket", ["--unix-socket", socketPath, "http://localhost/bench/stream"]) { serviceNoBridge.append(x) }
        if let x = try await inSandbox("C proxy", openSandbox, ["-x", "http://127.0.0.1:3128", target]) { proxied.append(x) }
        if let x = try await inSandbox("C CONNECT", openSandbox, ["-p", "-x", "http://127.0.0.1:3128", target]) { tunnel.append(x) }
    }
    try await serviceSandbox.kill()
    try await openSandbox.kill()
    try? await server.stop()
    let base = median(direct)
    func line(_ label: String, _ xs: [Double]) -> String {
        let padded = label.padding(toLength: 46, withPad: " ", startingAt: 0)
        return xs.isEmpty ? "  \(padded)no successful run" : "  \(padded)\(String(format: "%6.0f MB/s", median(xs)))  (\(ratio(median(xs), base)) A)"
    }
    print("gateway throughput (one \(size >> 20) MiB chunked response from a loopback server, read by curl; median of \(runs) interleaved runs)")
    print("  \("A direct, curl on the host".padding(toLength: 46, withPad: " ", startingAt: 0))\(String(format: "%6.0f MB/s", base))  (baseline)")
    print(line("B service /bench/, curl in sandbox → gateway", service))
    if hasSocket { print(line("  B without the bridge (host curl → socket)", serviceNoBridge)) }
    print(line("C proxy, plain http:// (--network open)", proxied))
    print(line("C proxy, CONNECT tunnel (curl -p)", tunnel))
}

/// Time between the first step message of each phase and the first message of the next one.
final class PhaseMarks: @unchecked Sendable {
    private let lock = NSLock()
    private var marks: [(String, Date)] = []
    private var readyAt: Date?
    private var firstEventAt: Date?
    func mark(_ name: String, _ message: String) {
        lock.lock(); defer { lock.unlock() }
        if marks.last?.0 != name { marks.append((name, Date())) }
        if name == "sandbox", message.contains("ready"), readyAt == nil { readyAt = Date() }
    }
    func firstAgentEvent() {
        lock.lock(); defer { lock.unlock() }
        if firstEventAt == nil { firstEventAt = Date() }
    }
    func durations() -> [String: Double] {
        lock.lock(); defer { lock.unlock() }
        var out: [String: Double] = [:]
        for (i, mark) in marks.enumerated() {
            let end = i + 1 < marks.count ? marks[i + 1].1 : Date()
            out[mark.0, default: 0] += end.timeIntervalSince(mark.1)
        }
        if let readyAt, let firstEventAt { out["firstEvent"] = firstEventAt.timeIntervalSince(readyAt) }
        return out
    }
}

// MARK: 5. Follow-up latency of --keep-alive (FollowUpLatency.swift).
do {
    try await runFollowUpBenchmark(runs: quick ? 1 : 5, scratch: scratch)
}

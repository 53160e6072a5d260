import AgentCore
import CATestSupport
import Foundation

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

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Wall time of one run of a program, in ms. Uses posix_spawn directly: Foundation's Process
/// adds tens of milliseconds of its own here, which would hide what is being measured.
func timeProcess(_ path: String, _ args: [String], env: [String: String]) throws -> Double {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var argv = ([path] + args).map { strdup($0) } + [nil]
    var envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in argv + envp where p != nil { free(p) } }
    var pid = pid_t()
    let start = DispatchTime.now().uptimeNanoseconds
    guard posix_spawn(&pid, path, &actions, nil, &argv, &envp) == 0 else { throw CocoaError(.executableLoad) }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
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

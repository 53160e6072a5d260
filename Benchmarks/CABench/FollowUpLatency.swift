import AgentCore
import CATestSupport
import Foundation
import SandboxClient

// MARK: Follow-up latency: `ca task resume` of a task kept paused (--keep-alive) against today's
// resume (a fresh sandbox, a clone, the parent's patch applied, the transcript put back), both on
// the fake Novita service on 127.0.0.1 in the same run, with the real Claude Code binary and the
// fake Anthropic API. Measured: from the runner's start to Claude Code starting ("agent" step),
// and the whole child task.

/// One follow-up: seconds to the agent's start and in total, or `nil` when the run failed.
func measureFollowUp(service: TaskService, fake: FakeAnthropicServer, repository: String, keepAlive: Bool) async throws -> (toAgent: Double, total: Double)? {
    fake.append([
        .toolUse("Write", ["file_path": "{{cwd}}/parent.txt", "content": .string(String(repeating: "a line of the parent's change\n", count: 200))]),
        .text("parent done"),
    ])
    var request = TaskRequest(prompt: "write parent.txt", repository: repository, timeoutSeconds: 300)
    request.keepAliveSeconds = keepAlive ? 600 : 0
    let parentTask = try await service.create(request)
    let parent = await try service.makeRunner(for: parentTask).run(taskID: parentTask.id)
    guard parent.status == .succeeded else { print("  parent failed: \(parent.error ?? "?")"); return nil }
    fake.append([.text("child done")])
    let child = try await service.resume(parent.id, TaskResumeRequest(prompt: "go on", keepAliveSeconds: 0))
    let start = Date()
    let agentAt = LockedDate()
    let runner = try service.makeRunner(for: child) { progress in
        if case .step(let name, _) = progress, name == "agent" { agentAt.setOnce(Date()) }
    }
    let done = await runner.run(taskID: child.id)
    let total = Date().timeIntervalSince(start)
    guard done.status == .succeeded, let reached = agentAt.value else { print("  follow-up failed: \(done.error ?? "?")"); return nil }
    if keepAlive, done.sandboxID != parent.sandboxID { print("  the follow-up did not reuse the paused sandbox"); return nil }
    return (reached.timeIntervalSince(start), total)
}

final class LockedDate: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date?
    func setOnce(_ value: Date) { lock.lock(); defer { lock.unlock() }; if date == nil { date = value } }
    var value: Date? { lock.lock(); defer { lock.unlock() }; return date }
}

func runFollowUpBenchmark(runs: Int, scratch: URL) async throws {
    let novita = FakeNovitaService(options: .init(templateTools: ["claude": try ClaudeBinary.locate().path]))
    try await novita.start()
    let fake = FakeAnthropicServer(script: [])
    try await fake.start()
    let fixture = try GitFixture.make(in: scratch.appendingPathComponent("git-follow-up"))
    var env = ProcessInfo.processInfo.environment
    env["CA_HOME"] = scratch.appendingPathComponent("task-home-follow-up").path
    env["ANTHROPIC_API_KEY"] = "sk-ant-bench"
    env["ANTHROPIC_BASE_URL"] = fake.baseURL.absoluteString
    env["CLAUDE_CODE_MAX_RETRIES"] = "0"
    env["CA_SANDBOX"] = "novita"
    if env["CA_CLAUDE_BIN"] == nil { env["CA_CLAUDE_BIN"] = try ClaudeBinary.locate().path }
    env.merge(novita.environment()) { _, new in new }
    let service = try TaskService(environment: env)
    var fresh: [(toAgent: Double, total: Double)] = []
    var kept: [(toAgent: Double, total: Double)] = []
    // Alternated, so that both see the same machine load.
    for _ in 0..<runs {
        if let r = try await measureFollowUp(service: service, fake: fake, repository: fixture.bare.path, keepAlive: false) { fresh.append(r) }
        if let r = try await measureFollowUp(service: service, fake: fake, repository: fixture.bare.path, keepAlive: true) { kept.append(r) }
    }
    func med(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.isEmpty ? .nan : s[s.count / 2] * 1000 }
    let freshAgent = med(fresh.map(\.toAgent)), keptAgent = med(kept.map(\.toAgent))
    let freshTotal = med(fresh.map(\.total)), keptTotal = med(kept.map(\.total))
    print("follow-up latency on the novita backend (fake Novita service on 127.0.0.1; median of \(fresh.count)/\(kept.count) runs)")
    print(String(format: "  A today's resume: fresh sandbox + clone + patch   to agent %7.1f ms   whole task %7.1f ms  (baseline)", freshAgent, freshTotal))
    print(String(format: "  B resume of the paused sandbox (--keep-alive)     to agent %7.1f ms   whole task %7.1f ms  (%.2fx / %.2fx baseline)",
                 keptAgent, keptTotal, keptAgent / freshAgent, keptTotal / freshTotal))
    print("  live sandboxes left on the fake: \(novita.liveSandboxCount)")
    try? await fake.stop()
    try await novita.stop()
    await service.shutdown()
}

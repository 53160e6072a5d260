import AgentCore
import CATestSupport
import Foundation
import Testing

/// A unit test of the runner's watchdog with a STAND-IN agent: a shell script that prints a
/// `result` line and then lingers, as a hung Claude Code might. (Everything else — sandbox,
/// git, SQLite — is real; the real Claude Code binary cannot be made to linger on purpose.)
@Suite struct ResultGraceTests {
    @Test func resultEndsTheRunEvenIfTheProcessLingers() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-grace-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let fixture = try GitFixture.make(in: root.appendingPathComponent("git"))
        let script = root.appendingPathComponent("lingering-agent.sh")
        try await ExecutableScript.write("""
        #!/bin/sh
        echo '{"type":"system","subtype":"init","session_id":"s-linger","model":"stand-in"}'
        echo '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"done early","session_id":"s-linger","total_cost_usd":0.01}'
        sleep 1000 && echo never
        """, to: script.path)
        let env = [
            "CA_HOME": root.appendingPathComponent("home").path,
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "ANTHROPIC_API_KEY": "sk-ant-stand-in-key",
            "CA_CLAUDE_BIN": script.path,
            "CA_HELPER_BIN": CABinary.path,
        ]
        let service = try TaskService(environment: env)
        let task = try await service.create(TaskRequest(prompt: "anything", repository: fixture.bare.path, timeoutSeconds: 120))
        let configuration = EngineConfiguration(
            paths: service.paths, credentials: AgentCredentials.fromEnvironment(env),
            agentExecutable: try service.backends.agentExecutable(for: .local), resultGrace: 1)
        let runner = TaskRunner(store: service.store, provider: try service.backends.provider(named: .local), configuration: configuration)
        let started = Date()
        let done = await runner.run(taskID: task.id)
        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")
        #expect(done.result == "done early")
        // Not a timing test: without the grace kill the agent's `sleep 1000` would hold the run
        // until the task's 120 s deadline; anything well below that shows the kill (seen: 2–27 s).
        #expect(Date().timeIntervalSince(started) < 100, "the lingering process was not stopped after its result")
        #expect(done.error == nil)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: service.paths.sandboxes.path)) ?? []).isEmpty)
    }
}

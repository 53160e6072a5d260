import AgentCore
import CATestSupport
import Foundation
import Testing

/// Everything one end-to-end engine test needs: a CA_HOME, a git remote, the fake Anthropic
/// API, the real Claude Code binary and the real local (bubblewrap) backend.
struct EngineHarness {
    static let apiKey = "sk-ant-test-SECRET-\(UUID().uuidString.prefix(8))"

    let root: URL
    let fixture: GitFixture
    let fake: FakeAnthropicServer
    let service: TaskService
    let environment: [String: String]

    static func make(script: [ScriptedTurn], extra: [String: String] = [:]) async throws -> EngineHarness {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-e2e-\(UUID().uuidString.prefix(8))")
        let fixture = try GitFixture.make(in: root.appendingPathComponent("git"))
        let fake = FakeAnthropicServer(script: script)
        try await fake.start()
        let claude = try ClaudeBinary.locate()
        var env = [
            "CA_HOME": root.appendingPathComponent("home").path,
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "ANTHROPIC_API_KEY": apiKey,
            "ANTHROPIC_BASE_URL": fake.baseURL.absoluteString,
            "CA_CLAUDE_BIN": claude.path,
            "CA_HELPER_BIN": CABinary.path,
            "CLAUDE_CODE_MAX_RETRIES": "0",
        ]
        env.merge(extra) { _, new in new }
        let service = try TaskService(environment: env)
        return EngineHarness(root: root, fixture: fixture, fake: fake, service: service, environment: env)
    }

    func create(_ prompt: String, timeout: Int = 120, branch: String? = nil, network: NetworkMode? = nil, allowHosts: [String] = []) async throws -> TaskRecord {
        try await service.create(TaskRequest(prompt: prompt, repository: fixture.bare.path, branch: branch, timeoutSeconds: timeout,
                                       network: network, allowHosts: allowHosts))
    }

    /// The text of every tool result the agent got back, in order.
    func toolResults(_ task: TaskRecord) async throws -> [String] {
        try await service.store.events(taskID: task.id).compactMap { AgentEvent.parse(Data($0.payload.utf8)) }.flatMap(\.kinds).compactMap { kind in
            if case .toolResult(_, _, let content) = kind { return content } else { return nil }
        }
    }

    /// ca's own notes of a task (`type` `ca`) with the given subtype.
    func notes(_ task: TaskRecord, _ subtype: String) async throws -> [String] {
        try await service.store.events(taskID: task.id).filter { $0.type == "ca" && $0.subtype == subtype }.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any])?["message"] as? String
        }
    }

    func run(_ task: TaskRecord) async throws -> TaskRecord {
        try await service.makeRunner(for: task).run(taskID: task.id)
    }

    var sandboxesFolder: URL { service.paths.sandboxes }

    /// Live local sandbox folders (there should be none after a task).
    func liveSandboxes() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: sandboxesFolder.path)) ?? []).filter { !$0.hasPrefix(".") }
    }

    func file(_ task: TaskRecord, _ relative: String) -> String? {
        try? String(contentsOf: service.paths.taskFolder(task.id).appendingPathComponent(relative), encoding: .utf8)
    }

    /// Every byte ca wrote: the database (with its WAL) and all task folders.
    func everythingWritten() throws -> Data {
        try WrittenBytes.all(under: service.paths.home)
    }

    func cleanup() async {
        try? await fake.stop()
        try? FileManager.default.removeItem(at: root)
    }
}

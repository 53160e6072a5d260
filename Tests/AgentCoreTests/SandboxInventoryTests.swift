import AgentCore
import CATestSupport
import Foundation
import SandboxClient
import Testing

/// `ca sandbox gc` goes on past a sandbox it cannot list or kill, with the real local backend.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap"), "needs bubblewrap"))
struct SandboxInventoryTests {
    /// Three finished tasks, each with a local sandbox.
    private func threeFinishedTasks(_ h: EngineHarness) async throws -> (provider: any SandboxProvider, ids: [String]) {
        let provider = try h.service.backends.provider(named: .local)
        var ids: [String] = []
        for prompt in ["one", "two", "three"] {
            let task = try await h.create(prompt)
            _ = try await h.service.store.update(task.id) { $0.status = .succeeded }
            let sandbox = try await provider.create(SandboxSpec(lifetime: 300, metadata: ["ca.task_id": task.id, "ca.version": "test"]))
            ids.append(sandbox.id)
        }
        return (provider, ids)
    }

    @Test func gcGoesOnPastASandboxWhoseRecordIsUnreadable() async throws {
        let h = try await EngineHarness.make(script: [])
        defer { Task { await h.cleanup() } }
        let (_, ids) = try await threeFinishedTasks(h)
        // The second one's record becomes a folder: the backend cannot tell whose sandbox it is.
        let broken = h.sandboxesFolder.appendingPathComponent(ids[1]).path
        try FileManager.default.removeItem(atPath: broken + "/sandbox.json")
        try FileManager.default.createDirectory(atPath: broken + "/sandbox.json", withIntermediateDirectories: false)

        let listed = await h.service.inventory.list(backends: [.local])
        #expect(Set(listed.entries.map(\.sandbox.id)) == [ids[0], ids[2]])
        #expect(Array(listed.errors.keys) == ["local/\(ids[1])"])

        let collected = await h.service.inventory.collectGarbage(backends: [.local])
        #expect(Set(collected.killed.map(\.sandbox.id)) == [ids[0], ids[2]])
        #expect(Array(collected.errors.keys) == ["local/\(ids[1])"])
        #expect(collected.errors["local/\(ids[1])"]?.contains("sandbox.json is not a readable sandbox record") == true)
        #expect(h.liveSandboxes() == [ids[1]], "only the broken folder stays, untouched")
    }

    @Test func gcGoesOnPastASandboxThatCannotBeKilled() async throws {
        let h = try await EngineHarness.make(script: [])
        defer { Task { await h.cleanup() } }
        let (provider, ids) = try await threeFinishedTasks(h)
        let failing = KillFailingProvider(base: provider, failingID: ids[0])
        let backends = SandboxBackends(paths: h.service.paths, environment: h.environment) { _ throws(TaskError) in failing }
        let inventory = SandboxInventory(store: h.service.store, backends: backends)

        let collected = await inventory.collectGarbage(backends: [.local])
        #expect(Set(collected.killed.map(\.sandbox.id)) == [ids[1], ids[2]])
        #expect(Array(collected.errors.keys) == ["local/\(ids[0])"])
        #expect(collected.errors["local/\(ids[0])"]?.contains("removal failed (injected)") == true)
        #expect(h.liveSandboxes() == [ids[0]])
        try await provider.kill(id: ids[0])
    }
}

/// A provider whose `kill` fails for one sandbox, as a removal that throws would.
private struct KillFailingProvider: SandboxProvider {
    let base: any SandboxProvider
    let failingID: String

    var name: String { base.name }

    func create(_ spec: SandboxSpec) async throws(SandboxError) -> any Sandbox { try await base.create(spec) }
    func connect(id: String) async throws(SandboxError) -> any Sandbox { try await base.connect(id: id) }
    func list(metadata: [String: String]) async throws(SandboxError) -> [SandboxInfo] { try await base.list(metadata: metadata) }
    func listing(metadata: [String: String]) async throws(SandboxError) -> SandboxListing { try await base.listing(metadata: metadata) }

    @discardableResult
    func kill(id: String) async throws(SandboxError) -> Bool {
        if id == failingID { throw .io("\(id): removal failed (injected)") }
        return try await base.kill(id: id)
    }
}

import AgentCore
import CATestSupport
import Foundation
import SandboxClient
import Testing

/// The core end-to-end task run through the Novita (and E2B) backend, against the fake Novita
/// service, with the real Claude Code binary and the fake Anthropic API. Only the service URLs
/// differ from a production setup.
@Suite(.serialized) struct TaskEngineNovitaTests {
    @Test(arguments: ["novita", "e2b"])
    func taskSucceedsThroughTheCloudBackend(flavour: String) async throws {
        // Like the cloud-agent template, the fake's sandboxes have `claude` on their PATH.
        let novita = FakeNovitaService(options: .init(templateTools: ["claude": try ClaudeBinary.locate().path]))
        try await novita.start()
        defer { Task { try? await novita.stop() } }
        var extra = novita.environment(flavour: flavour)
        extra["CA_SANDBOX"] = flavour
        let h = try await EngineHarness.make(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/cloud.txt", "content": "made in the cloud\n"]),
            .toolUse("Bash", ["command": "cat cloud.txt"]),
            .text("Cloud task done."),
        ], extra: extra)
        defer { Task { await h.cleanup() } }

        let task = try await h.create("write cloud.txt")
        #expect(task.sandboxBackend.rawValue == flavour)
        let done = try await h.run(task)
        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")
        #expect(done.result == "Cloud task done.")
        #expect(done.sandboxID != nil)
        #expect(h.file(done, "files/cloud.txt") == "made in the cloud\n")
        #expect(h.file(done, "patch.diff")?.contains("+made in the cloud") == true)
        #expect(h.file(done, "transcript.jsonl") != nil)
        #expect(novita.liveSandboxCount == 0, "the task leaked its sandbox")

        // The sandbox was tagged, and the key stayed out of everything ca wrote.
        let creates = novita.requests(path: "/sandboxes").filter { $0.method == "POST" }
        #expect(creates.count == 1)
        #expect(creates.first.map { String(decoding: $0.body, as: UTF8.self) }?.contains("ca.task_id") == true)
        #expect(try h.everythingWritten().range(of: Data(novita.apiKey.utf8)) == nil)
        #expect(try h.everythingWritten().range(of: Data(EngineHarness.apiKey.utf8)) == nil)
    }

    @Test func sandboxListAndGarbageCollection() async throws {
        let novita = FakeNovitaService()
        try await novita.start()
        defer { Task { try? await novita.stop() } }
        var extra = novita.environment()
        extra["CA_SANDBOX"] = "novita"
        let h = try await EngineHarness.make(script: [], extra: extra)
        defer { Task { await h.cleanup() } }
        let provider = try h.service.backends.provider(named: .novita)
        // One sandbox of a finished task, one of an unknown task, one of a running task, one not ca's.
        var finished = try await h.create("finished"); finished = try await h.service.store.update(finished.id) { $0.status = .succeeded }
        var running = try await h.create("running")
        running = try await h.service.store.update(running.id) { t in
            t.status = .running; t.runnerPID = Int(ProcessInfo.processInfo.processIdentifier); t.heartbeatAt = Date()
        }
        let ours = h.service.store.installationID
        for id in [finished.id, "unknowntask1", running.id] {
            _ = try await provider.create(SandboxSpec(template: "base", lifetime: 300,
                                                      metadata: ["ca.task_id": id, "ca.version": "test", "ca.installation": ours]))
        }
        _ = try await provider.create(SandboxSpec(template: "base", lifetime: 300, metadata: ["owner": "someone-else"]))
        // A teammate's (or a server's) ca on the same account: its task is unknown here.
        _ = try await provider.create(SandboxSpec(template: "base", lifetime: 300,
                                                  metadata: ["ca.task_id": "theirtask", "ca.version": "test", "ca.installation": "another-installation"]))
        #expect(novita.liveSandboxCount == 5)

        let listed = await h.service.inventory.list(backends: [.novita])
        #expect(listed.errors.isEmpty)
        #expect(Set(listed.entries.compactMap(\.taskID)) == [finished.id, "unknowntask1", running.id])
        let collected = await h.service.inventory.collectGarbage(backends: [.novita])
        #expect(Set(collected.killed.compactMap(\.taskID)) == [finished.id, "unknowntask1"])
        #expect(novita.liveSandboxCount == 3)
        // Only when asked, other installations' sandboxes are collected too.
        let all = await h.service.inventory.collectGarbage(backends: [.novita], allInstallations: true)
        #expect(all.killed.compactMap(\.taskID) == ["theirtask"])
        #expect(novita.liveSandboxCount == 2)
    }
}

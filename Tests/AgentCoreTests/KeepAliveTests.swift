import AgentCore
import CATestSupport
import Foundation
import SandboxClient
import Testing

/// `--keep-alive` end to end against the fake Novita service, with the real Claude Code binary
/// and the fake Anthropic API: the sandbox is paused at the task's end, a resume continues in
/// it (no new sandbox, no clone), falls back after the window, and nothing is left behind.
@Suite(.serialized) struct KeepAliveTests {
    struct Setup {
        let novita: FakeNovitaService
        let h: EngineHarness

        func create(_ prompt: String, keepAlive: Int?) async throws -> TaskRecord {
            var request = TaskRequest(prompt: prompt, repository: h.fixture.bare.path, timeoutSeconds: 300)
            request.keepAliveSeconds = keepAlive
            return try await h.service.create(request)
        }

        var creates: Int { novita.requests(path: "/sandboxes").filter { $0.method == "POST" }.count }
        var clones: Int { novita.startedCommands.filter { $0.contains("git clone") }.count }

        func stop() async {
            await h.cleanup()
            try? await novita.stop()
        }
    }

    static func setUp(_ script: [ScriptedTurn]) async throws -> Setup {
        let novita = FakeNovitaService(options: .init(templateTools: ["claude": try ClaudeBinary.locate().path]))
        try await novita.start()
        var extra = novita.environment()
        extra["CA_SANDBOX"] = "novita"
        let h = try await EngineHarness.make(script: script, extra: extra)
        return Setup(novita: novita, h: h)
    }

    /// The parent's turns: a change in the repository, and a file outside it (which no patch
    /// carries: only the kept sandbox still has it).
    static let parentTurns: [ScriptedTurn] = [
        .toolUse("Write", ["file_path": "{{cwd}}/keep.txt", "content": "from the parent\n"]),
        .toolUse("Bash", ["command": "cat > /home/user/outside.txt <<'EOF'\nkept state\nEOF"]),
        .text("Parent done."),
    ]

    @Test func resumeContinuesInThePausedSandbox() async throws {
        let s = try await Self.setUp(Self.parentTurns)
        defer { Task { await s.stop() } }
        let parent = try await s.h.run(try await s.create("write keep.txt", keepAlive: 600))
        #expect(parent.status == .succeeded, "error: \(parent.error ?? "-")")
        let sandboxID = try #require(parent.sandboxID)
        #expect(parent.keepAliveSeconds == 600)
        #expect(parent.pausedSandboxID == sandboxID)
        let until = try #require(parent.pausedUntil)
        #expect(until > Date().addingTimeInterval(500) && until < Date().addingTimeInterval(700))
        #expect(s.novita.isPaused(sandboxID: sandboxID) == true)
        #expect(s.novita.liveSandboxCount == 1)
        #expect(try await s.h.notes(parent, "teardown").contains { $0.contains("paused sandbox \(sandboxID)") })
        // The provider reaps it too should ca never come back: its timeout covers the window.
        let timeout = try #require(s.novita.requests(path: "/sandboxes/\(sandboxID)/timeout").last)
        #expect(timeout.jsonObject?["timeout"] as? Int ?? 0 >= 600)
        #expect(s.creates == 1 && s.clones == 1)

        s.h.fake.append([
            .toolUse("Bash", ["command": "cat /home/user/outside.txt keep.txt"]),
            .toolUse("Write", ["file_path": "{{cwd}}/second.txt", "content": "from the child\n"]),
            .text("Child done."),
        ])
        let before = s.h.fake.messagesRequests.count
        let childTask = try await s.h.service.resume(parent.id, prompt: "Now add second.txt")
        #expect(childTask.keepAliveSeconds == 600, "a resume keeps its parent's keep-alive")
        let child = try await s.h.run(childTask)
        #expect(child.status == .succeeded, "error: \(child.error ?? "-")")
        // The same sandbox: no sandbox created, nothing cloned, no patch applied.
        #expect(child.sandboxID == sandboxID)
        #expect(s.creates == 1, "a new sandbox was created")
        #expect(s.clones == 1, "the repository was cloned again")
        #expect(!s.novita.startedCommands.contains { $0.contains("git apply") })
        #expect(s.novita.requests(path: "/sandboxes/\(sandboxID)/connect").count == 1)
        #expect(try await s.h.notes(child, "sandbox").contains { $0.contains("resuming paused sandbox \(sandboxID)") && $0.contains("no clone") })
        // The agent resumed its session, and saw the file only the kept sandbox has.
        #expect(s.h.fake.messagesRequests[before].messagesContain("write keep.txt"), "the agent did not get the earlier conversation")
        #expect(try await s.h.toolResults(child).contains { $0.contains("kept state") && $0.contains("from the parent") })
        #expect(child.baseCommit == parent.baseCommit)
        #expect(s.h.file(child, "files/keep.txt") == "from the parent\n")
        #expect(s.h.file(child, "files/second.txt") == "from the child\n")
        // The parent no longer holds it; the child does (its own keep-alive).
        #expect(try await s.h.service.store.task(id: parent.id)?.pausedSandboxID == nil)
        #expect(child.pausedSandboxID == sandboxID)
        #expect(s.novita.isPaused(sandboxID: sandboxID) == true)

        // Never left forever: the expiry pass kills it once the window has passed.
        #expect(await s.h.service.expirePausedSandboxes().isEmpty, "killed inside its window")
        let killed = await s.h.service.expirePausedSandboxes(now: Date().addingTimeInterval(3600))
        #expect(killed.map(\.sandboxID) == [sandboxID])
        #expect(try await s.h.service.store.task(id: child.id)?.pausedSandboxID == nil)
        #expect(s.novita.liveSandboxCount == 0)
    }

    @Test func resumeAfterTheWindowFallsBackToAFreshSandbox() async throws {
        let s = try await Self.setUp(Self.parentTurns)
        defer { Task { await s.stop() } }
        let parent = try await s.h.run(try await s.create("write keep.txt", keepAlive: 600))
        #expect(parent.status == .succeeded, "error: \(parent.error ?? "-")")
        let kept = try #require(parent.pausedSandboxID)
        // The window passes (the clock moved through the store).
        try await s.h.service.store.update(parent.id) { $0.pausedUntil = Date().addingTimeInterval(-5) }

        s.h.fake.append([.toolUse("Bash", ["command": "cat keep.txt; test -e /home/user/outside.txt && echo outside-present || echo outside-absent"]),
                         .text("Child done.")])
        let child = try await s.h.run(try await s.h.service.resume(parent.id, TaskResumeRequest(prompt: "Go on", keepAliveSeconds: 0)))
        #expect(child.status == .succeeded, "error: \(child.error ?? "-")")
        #expect(child.keepAliveSeconds == nil)
        #expect(child.sandboxID != kept)
        #expect(s.creates == 2 && s.clones == 2, "the usual path: a fresh sandbox and a clone")
        #expect(try await s.h.notes(child, "sandbox").contains { $0.contains("expired") && $0.contains(kept) })
        // The parent's change came from its patch; the kept sandbox's other state did not.
        let results = try await s.h.toolResults(child)
        #expect(results.contains { $0.contains("from the parent") && $0.contains("outside-absent") })
        #expect(s.novita.liveSandboxCount == 0, "the expired sandbox or the child's was left behind")
    }

    @Test func garbageCollectionKeepsTheWindowAndKillsAfterIt() async throws {
        let s = try await Self.setUp(Self.parentTurns)
        defer { Task { await s.stop() } }
        let parent = try await s.h.run(try await s.create("write keep.txt", keepAlive: 600))
        #expect(parent.status == .succeeded, "error: \(parent.error ?? "-")")
        let kept = try #require(parent.pausedSandboxID)

        // Listed as paused with its expiry; not garbage while the window lasts.
        let listed = await s.h.service.inventory.list(backends: [.novita])
        let entry = try #require(listed.entries.first { $0.sandbox.id == kept })
        #expect(entry.sandbox.state == "paused")
        #expect(entry.pausedUntil == parent.pausedUntil)
        #expect(!entry.isGarbage)
        #expect(await s.h.service.inventory.collectGarbage(backends: [.novita]).killed.isEmpty)
        #expect(s.novita.isPaused(sandboxID: kept) == true)

        try await s.h.service.store.update(parent.id) { $0.pausedUntil = Date().addingTimeInterval(-1) }
        let collected = await s.h.service.inventory.collectGarbage(backends: [.novita])
        #expect(collected.killed.map(\.sandbox.id) == [kept])
        #expect(s.novita.liveSandboxCount == 0)
        // The store forgets it at the next pass (the sandbox is gone already: not an error).
        #expect(await s.h.service.expirePausedSandboxes().map(\.sandboxID) == [kept])
        #expect(try await s.h.service.store.task(id: parent.id)?.pausedSandboxID == nil)
    }

    /// Without keep-alive, or without a workspace to resume (here: cancelled before the clone),
    /// the sandbox is killed as always.
    @Test func sandboxesWithoutKeepAliveOrWorkspaceAreKilled() async throws {
        let s = try await Self.setUp([.text("Nothing to do.")])
        defer { Task { await s.stop() } }
        let plain = try await s.h.run(try await s.create("no keep-alive", keepAlive: nil))
        #expect(plain.status == .succeeded, "error: \(plain.error ?? "-")")
        #expect(plain.pausedSandboxID == nil)
        #expect(s.novita.liveSandboxCount == 0)

        let cancelled = try await s.create("cancelled", keepAlive: 600)
        _ = try await s.h.service.cancel(cancelled.id)
        try await s.h.service.store.update(cancelled.id) { $0.status = .queued }   // a cancel that arrives as the runner starts
        let ended = try await s.h.run(try #require(try await s.h.service.store.task(id: cancelled.id)))
        #expect(ended.status == .cancelled)
        #expect(ended.pausedSandboxID == nil)
        #expect(s.novita.liveSandboxCount == 0)
    }

    /// A pause the service refuses ends in a kill: a kept sandbox is never left running.
    @Test func aFailedPauseKillsTheSandbox() async throws {
        let s = try await Self.setUp([.text("Done.")])
        defer { Task { await s.stop() } }
        s.novita.injectFault(.status(500, retryAfter: nil), pathSuffix: "/pause", method: "POST")
        let done = try await s.h.run(try await s.create("anything", keepAlive: 600))
        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")
        #expect(done.pausedSandboxID == nil && done.pausedUntil == nil)
        #expect(try await s.h.notes(done, "teardown").contains { $0.contains("cannot pause sandbox") })
        #expect(s.novita.requests.contains { $0.path.hasSuffix("/pause") }, "no pause was tried")
        #expect(s.novita.liveSandboxCount == 0)
    }

    @Test func backendsThatCannotPauseRefuseKeepAlive() async throws {
        let h = try await EngineHarness.make(script: [])
        defer { Task { await h.cleanup() } }
        var request = TaskRequest(prompt: "x", repository: h.fixture.bare.path, backend: .local)
        request.keepAliveSeconds = 600
        await #expect(throws: TaskError.self) { try await h.service.create(request) }
        request.keepAliveSeconds = KeepAlive.maximumSeconds + 1
        await #expect(throws: TaskError.self) { try await h.service.create(request) }
        // 0 turns it off, anywhere.
        request.keepAliveSeconds = 0
        #expect(try await h.service.create(request).keepAliveSeconds == nil)

        // CA_KEEP_ALIVE is a default for backends that can pause: a local task just runs without it.
        var environment = h.environment
        environment["CA_KEEP_ALIVE"] = "30m"
        let service = try TaskService(environment: environment)
        request.keepAliveSeconds = nil
        #expect(try await service.create(request).keepAliveSeconds == nil)
        environment["CA_KEEP_ALIVE"] = "2 days"
        await #expect(throws: TaskError.self) { try await TaskService(environment: environment).create(request) }
    }
}

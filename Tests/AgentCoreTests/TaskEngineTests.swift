import AgentCore
import CATestSupport
import Foundation
import Testing

/// End to end: real Claude Code, real bubblewrap, real git and SQLite; only the Anthropic API is fake.
@Suite(.serialized) struct TaskEngineTests {
    @Test func taskWritesAFileRunsACommandAndResumes() async throws {
        let h = try await EngineHarness.make(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/hello.txt", "content": "hello from the agent\n"], text: "I'll write the file."),
            .toolUse("Bash", ["command": "cat hello.txt && echo key=$ANTHROPIC_API_KEY", "description": "show it"]),
            .text("All done: wrote hello.txt."),
        ])
        defer { Task { await h.cleanup() } }
        let task = try await h.create("Write hello.txt and show it")
        let done = try await h.run(task)

        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")
        #expect(done.result == "All done: wrote hello.txt.")
        #expect(done.numTurns == 3)
        #expect((done.costUSD ?? 0) > 0)
        #expect((done.inputTokens ?? 0) > 0 && (done.outputTokens ?? 0) > 0)
        #expect(done.sessionID != nil)
        #expect(done.baseCommit == (try h.fixture.head()))
        #expect(h.file(done, "files/hello.txt") == "hello from the agent\n")
        #expect(h.file(done, "patch.diff")?.contains("+hello from the agent") == true)
        #expect(h.file(done, "transcript.jsonl")?.contains("Write hello.txt and show it") == true)
        #expect(h.liveSandboxes().isEmpty)

        // The log holds the tool calls, in order, and the result.
        let events = try await h.service.store.events(taskID: done.id)
        let tools = events.compactMap { AgentEvent.parse(Data($0.payload.utf8)) }.flatMap(\.kinds).compactMap { kind -> String? in
            if case .toolUse(_, let name, _) = kind { return name } else { return nil }
        }
        #expect(tools == ["Write", "Bash"])
        #expect(events.last(where: { $0.type != "ca" })?.type == "result")
        #expect(events.map(\.sequence) == Array(1...events.count))

        // The API got the real key from ca's gateway; the agent only ever had a placeholder (its
        // Bash tool printed it), and ca stored the key nowhere.
        #expect(h.fake.messagesRequests.allSatisfy { $0.header("x-api-key") == EngineHarness.apiKey })
        #expect(events.contains { $0.payload.contains("key=\(AgentInvocation.credentialPlaceholder)") })
        let written = try h.everythingWritten()
        #expect(written.range(of: Data(EngineHarness.apiKey.utf8)) == nil)

        // Resume: a fresh sandbox with the parent's change and conversation.
        h.fake.append([
            .toolUse("Write", ["file_path": "{{cwd}}/second.txt", "content": "second step\n"]),
            .text("Second step done."),
        ])
        let before = h.fake.messagesRequests.count
        let child = try await h.service.resume(done.id, prompt: "Now add second.txt")
        let resumed = try await h.run(child)
        #expect(resumed.status == .succeeded, "error: \(resumed.error ?? "-")")
        #expect(resumed.parentID == done.id)
        #expect(resumed.sessionID == done.sessionID)
        #expect(resumed.baseCommit == done.baseCommit)
        let firstResumed = h.fake.messagesRequests[before]
        #expect(firstResumed.messagesContain("Write hello.txt and show it"), "the agent did not get the earlier conversation")
        #expect(firstResumed.messagesContain("Now add second.txt"))
        #expect(firstResumed.messages.count > 2)
        #expect(h.file(resumed, "files/hello.txt") == "hello from the agent\n")
        #expect(h.file(resumed, "files/second.txt") == "second step\n")
        #expect(h.liveSandboxes().isEmpty)

        // And a resume of the resumed task still carries the first conversation.
        h.fake.append([.text("Third.")])
        let before2 = h.fake.messagesRequests.count
        let grandchild = try await h.run(try await h.service.resume(resumed.id, prompt: "Third step"))
        #expect(grandchild.status == .succeeded, "error: \(grandchild.error ?? "-")")
        #expect(h.fake.messagesRequests[before2].messagesContain("Write hello.txt and show it"))
        #expect(h.fake.messagesRequests[before2].messagesContain("Now add second.txt"))
        #expect(h.file(grandchild, "files/second.txt") == "second step\n")
    }

    @Test func apiErrorFailsTheTaskWithTheReason() async throws {
        let h = try await EngineHarness.make(script: [.httpError(status: 500, message: "upstream exploded", shouldRetry: false)])
        defer { Task { await h.cleanup() } }
        let done = try await h.run(try await h.create("anything"))
        #expect(done.status == .failed)
        #expect(done.error?.contains("500") == true, "error: \(done.error ?? "-")")
        #expect(h.liveSandboxes().isEmpty)
    }

    @Test func deadlineStopsAHangingAgent() async throws {
        let h = try await EngineHarness.make(script: [.hang])
        defer { Task { await h.cleanup() } }
        let start = Date()
        let done = try await h.run(try await h.create("hang", timeout: 4))
        #expect(done.status == .timedOut)
        #expect(done.error?.contains("deadline") == true)
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(h.liveSandboxes().isEmpty)
    }

    @Test func inactivityLimitStopsASilentAgent() async throws {
        let h = try await EngineHarness.make(script: [.hang], extra: ["CA_IDLE_TIMEOUT": "3s"])
        defer { Task { await h.cleanup() } }
        let done = try await h.run(try await h.create("hang", timeout: 120))
        #expect(done.status == .timedOut)
        #expect(done.error?.contains("no agent output") == true, "error: \(done.error ?? "-")")
    }

    @Test func cancelFromAnotherServiceStopsTheTask() async throws {
        let h = try await EngineHarness.make(script: [.hang])
        defer { Task { await h.cleanup() } }
        let task = try await h.create("hang until cancelled", timeout: 300)
        async let finished = h.run(task)
        #expect(await h.fake.waitForRequests(count: 1, timeout: .seconds(60)))
        // A second service on the same store stands for another `ca` process.
        let other = try TaskService(environment: h.environment)
        let requestedAt = Date()
        try await other.cancel(task.id)
        let done = try await finished
        #expect(done.status == .cancelled)
        #expect(Date().timeIntervalSince(requestedAt) < 10)
        #expect(h.liveSandboxes().isEmpty)
    }

    @Test func maxTurnsEndsTheTaskAsFailed() async throws {
        let h = try await EngineHarness.make(script: [
            .toolUse("Bash", ["command": "echo one"]), .toolUse("Bash", ["command": "echo two"]), .toolUse("Bash", ["command": "echo three"]),
        ])
        defer { Task { await h.cleanup() } }
        let task = try await h.service.create(TaskRequest(prompt: "loop", repository: h.fixture.bare.path, maxTurns: 1))
        let done = try await h.run(task)
        #expect(done.status == .failed)
        #expect(done.error?.contains("maximum number of turns") == true, "error: \(done.error ?? "-")")
    }

    @Test func unreachableRepositoryFailsClearly() async throws {
        let h = try await EngineHarness.make(script: [])
        defer { Task { await h.cleanup() } }
        await #expect(throws: TaskError.self) {
try await h.service.create(TaskRequest(prompt: "x", repository: h.root.appendingPathComponent("missing").path))
        }
        let remote = try await h.service.create(TaskRequest(prompt: "x", repository: "https://127.0.0.1:9/nothing.git", timeoutSeconds: 60))
        let done = try await h.run(remote)
        #expect(done.status == .failed)
        #expect(done.error?.contains("cannot reach repository https://127.0.0.1:9/nothing.git") == true, "error: \(done.error ?? "-")")
        #expect(h.fake.requests.isEmpty)
    }

    @Test func branchIsCheckedOut() async throws {
        let h = try await EngineHarness.make(script: [.toolUse("Bash", ["command": "ls"]), .text("ok")])
        defer { Task { await h.cleanup() } }
        let done = try await h.run(try await h.create("look", branch: "feature"))
        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")
        #expect(done.baseCommit == (try h.fixture.head("feature")))
    }

    @Test func hostileWorkspaceCannotWriteOutsideTheTaskFolder() async throws {
        let script = """
        ln -s /etc/passwd passwd_link && mkdir -p sub && ln -s / sub/rootlink && \
        printf 'odd' > "$(printf 'we ird\\nname.txt')" && head -c 3000000 /dev/zero > big.bin && \
        printf 'ok' > normal.txt && rm README.md && echo done
        """
        let h = try await EngineHarness.make(script: [.toolUse("Bash", ["command": .string(script)]), .text("made a mess")])
        defer { Task { await h.cleanup() } }
        let outside = h.root.appendingPathComponent("home")
        let beforeOutside = Set((try? FileManager.default.contentsOfDirectory(atPath: outside.path)) ?? [])
        var task = try await h.create("make a mess")
        task = try await h.service.makeRunnerForTest(task, maximumFileSize: 1_000_000).run(taskID: task.id)
        #expect(task.status == .succeeded, "error: \(task.error ?? "-")")
        let folder = h.service.paths.taskFolder(task.id)
        let artifacts = try await h.service.store.artifacts(taskID: task.id)
        func kind(_ path: String) -> ArtifactRecord.Kind? { artifacts.first { $0.path == path }?.kind }
        #expect(kind("passwd_link") == .symlink)
        #expect(kind("sub/rootlink") == .symlink)
        #expect(kind("README.md") == .deleted)
        #expect(kind("big.bin") == .skipped)
        #expect(kind("normal.txt") == .file)
        #expect(kind("we ird\nname.txt") == .file)
        // Links are not created, and nothing of the host file was copied.
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: folder.appendingPathComponent("files/passwd_link").path)) == nil)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("files/passwd_link").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("files/big.bin").path))
        let passwd = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
        #expect(try h.everythingWritten().range(of: passwd) == nil)
        // Only expected entries appeared in CA_HOME.
        let afterOutside = Set((try? FileManager.default.contentsOfDirectory(atPath: outside.path)) ?? [])
        #expect(afterOutside.subtracting(beforeOutside).subtracting(["tasks", "sandboxes", "logs"]).isEmpty)
        #expect(h.file(task, "files/we ird\nname.txt") == "odd")
        #expect(h.file(task, "patch.diff")?.contains("passwd_link") == true)
    }
}

extension TaskService {
    /// A runner with a smaller file-size limit, for the extraction test.
    func makeRunnerForTest(_ task: TaskRecord, maximumFileSize: Int) throws -> TaskRunner {
        try makeRunner(for: task, extractor: WorkspaceExtractor(maximumFileSize: maximumFileSize))
    }
}

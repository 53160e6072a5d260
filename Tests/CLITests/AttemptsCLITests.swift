import CATestSupport
import Foundation
import Synchronization
import Testing

/// `--attempts N` (best of N): attempts of one prompt run at once in their own sandboxes under a
/// parent task; `get`, `diff`, `files`, `apply` and `resume` take `--attempt K`.
///
/// The attempts reach the same fake Anthropic API at once, so the fake hands out one script per
/// conversation in arrival order: which attempt gets which script is not known in advance, and
/// the test tells them apart by what each one did.
@Suite(.serialized) struct AttemptsCLITests {
    static let apiKey = "sk-ant-attempts-SECRET-\(UUID().uuidString.prefix(8))"

    struct Setup {
        let root: URL
        let fixture: GitFixture
        let fake: FakeAnthropicServer
        let cli: CLI
        func cleanup() async { try? await fake.stop(); try? FileManager.default.removeItem(at: root) }
    }

    func setup(_ conversations: [[ScriptedTurn]]) async throws -> Setup {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-attempts-\(UUID().uuidString.prefix(8))")
        let fixture = try GitFixture.make(in: root.appendingPathComponent("git"))
        let fake = FakeAnthropicServer(conversations: conversations)
        try await fake.start()
        let cli = try CLI.local(root: root, fake: fake, apiKey: Self.apiKey)
        return Setup(root: root, fixture: fixture, fake: fake, cli: cli)
    }

    static let writesOne: [ScriptedTurn] = [
        .toolUse("Bash", ["command": "printf 'one\\n' > one.txt", "description": "write one"]),
        .text("Wrote one."),
    ]
    static let writesThree: [ScriptedTurn] = [
        .toolUse("Bash", ["command": "printf 'three\\n' > three.txt && printf 'extra\\n' > extra.txt", "description": "write three"]),
        .text("Wrote three."),
    ]
    static let fails: [ScriptedTurn] = [.httpError(status: 500, message: "attempt exploded", shouldRetry: false)]

    @Test func threeAttemptsWithDifferentOutcomes() async throws {
        let s = try await setup([Self.writesOne, Self.fails, Self.writesThree])
        defer { Task { await s.cleanup() } }
        let repo = s.fixture.bare.path

        // Out of range: refused before anything is stored.
        for bad in ["0", "5"] {
            let refused = try await s.cli.run(["task", "create", "write files", "--repo", repo, "--attempts", bad])
            #expect(refused.status == 64, "--attempts \(bad): \(refused.stderr)")
            #expect(refused.stderr.contains("--attempts must be from 1 to 4"), "\(refused.stderr)")
        }
        #expect(try await s.cli.run(["task", "list"]).stdout.contains("no tasks"))

        let created = try await s.cli.run(["task", "create", "write files", "--repo", repo, "--attempts", "3", "--json"])
        #expect(created.status == 0, "\(created.stdout) \(created.stderr)")
        let parent = try #require(created.json)
        let parentID = try #require(parent["id"] as? String)
        #expect(parent["status"] as? String == "succeeded")
        let attempts = try #require(parent["attempts"] as? [[String: Any]])
        #expect(attempts.map { $0["attempt"] as? Int } == [1, 2, 3])
        #expect(s.fake.conversationIDs.count == 3, "each attempt is its own conversation: \(s.fake.conversationIDs)")

        // One failed, two succeeded; the parent's cost is the sum of the attempts' costs.
        let statuses = attempts.map { $0["status"] as? String ?? "?" }
        #expect(statuses.sorted() == ["failed", "succeeded", "succeeded"], "\(statuses)")
        let costs = attempts.map { $0["cost_usd"] as? Double ?? 0 }
        #expect(attempts.filter { $0["status"] as? String == "succeeded" }.allSatisfy { ($0["cost_usd"] as? Double ?? 0) > 0 })
        let parentCost = try #require(parent["cost_usd"] as? Double)
        #expect(abs(parentCost - costs.reduce(0, +)) < 1e-9, "parent \(parentCost) vs attempts \(costs)")
        let failedIndex = try #require(statuses.firstIndex(of: "failed"))
        let failedNumber = failedIndex + 1
        #expect((attempts[failedIndex]["error"] as? String)?.isEmpty == false)
        let succeeded = [1, 2, 3].filter { $0 != failedNumber }
        #expect(parent["result"] as? String == "attempts \(succeeded[0]) and \(succeeded[1]) of 3 succeeded")

        // get --attempt K is the attempt's own task.
        var filesByAttempt: [Int: Set<String>] = [:]
        for number in 1...3 {
            let get = try await s.cli.run(["task", "get", parentID, "--attempt", String(number), "--json"])
            #expect(get.status == 0, "\(get.stderr)")
            let attempt = try #require(get.json)
            #expect(attempt["id"] as? String == attempts[number - 1]["id"] as? String)
            #expect(attempt["attempt_of"] as? String == parentID && attempt["attempt"] as? Int == number)
            #expect(attempt["status"] as? String == statuses[number - 1])
            #expect(attempt["prompt"] as? String == "write files")

            let files = try await s.cli.run(["task", "files", parentID, "--attempt", String(number), "--json"])
            #expect(files.status == 0, "\(files.stderr)")
            let saved = Set(((files.json?["artifacts"] as? [[String: Any]]) ?? []).filter { $0["kind"] as? String == "file" }.compactMap { $0["path"] as? String })
            filesByAttempt[number] = saved
            if number != failedNumber { #expect(attempts[number - 1]["files_changed"] as? Int == saved.count) }
        }
        // Each succeeded attempt followed its own script: one wrote one.txt, the other three.txt and extra.txt.
        #expect(filesByAttempt[failedNumber] == [])
        #expect(Set(succeeded.map { filesByAttempt[$0] ?? [] }) == [["one.txt"], ["three.txt", "extra.txt"]], "\(filesByAttempt)")
        let oneNumber = try #require(succeeded.first { filesByAttempt[$0] == ["one.txt"] })
        let threeNumber = try #require(succeeded.first { $0 != oneNumber })

        // diff --attempt K is that attempt's patch.
        let diffOne = try await s.cli.run(["task", "diff", parentID, "--attempt", String(oneNumber)])
        #expect(diffOne.status == 0 && diffOne.stdout.contains("+one") && !diffOne.stdout.contains("three"), "\(diffOne.stdout) \(diffOne.stderr)")
        let diffThree = try await s.cli.run(["task", "diff", parentID, "--attempt", String(threeNumber)])
        #expect(diffThree.status == 0 && diffThree.stdout.contains("+three") && diffThree.stdout.contains("+extra"), "\(diffThree.stdout)")

        let logs = try await s.cli.run(["task", "logs", parentID, "--attempt", String(oneNumber)])
        #expect(logs.status == 0 && logs.stdout.contains("one.txt") && !logs.stdout.contains("three.txt"), "\(logs.stdout)")

        // Without --attempt, or with one out of range, or on a task without attempts: usage errors naming the attempts.
        for command in ["diff", "files", "apply", "logs"] {
            let missing = try await s.cli.run(["task", command, parentID])
            #expect(missing.status == 64, "\(command): \(missing.stderr)")
            #expect(missing.stderr.contains("--attempt K") && attempts.allSatisfy { missing.stderr.contains($0["id"] as? String ?? "-") }, "\(missing.stderr)")
        }
        let four = try await s.cli.run(["task", "diff", parentID, "--attempt", "4"])
        #expect(four.status == 64 && four.stderr.contains("no attempt 4"), "\(four.stderr)")
        #expect(try await s.cli.run(["task", "diff", parentID, "--attempt", "0"]).status == 64)
        let childID = try #require(attempts[0]["id"] as? String)
        let notParent = try await s.cli.run(["task", "diff", childID, "--attempt", "1"])
        #expect(notParent.status == 64 && notParent.stderr.contains("not run with --attempts"), "\(notParent.stderr)")

        // get without --attempt lists the attempts; list shows the parent only.
        let shown = try await s.cli.run(["task", "get", parentID])
        #expect(shown.status == 0 && shown.stdout.contains("attempts"))
        for attempt in attempts { #expect(shown.stdout.contains(attempt["id"] as? String ?? "-")) }
        let listed = try await s.cli.run(["task", "list", "--json"])
        let listedIDs = ((try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(listedIDs == [parentID], "\(listed.stdout)")
        let table = try await s.cli.run(["task", "list"])
        #expect(table.stdout.contains(parentID) && table.stdout.contains("×3 write files") && !table.stdout.contains(childID), "\(table.stdout)")

        // apply --attempt K puts that attempt's changes into a checkout.
        let checkout = s.root.appendingPathComponent("checkout")
        _ = try GitFixture.git(["clone", "-q", repo, checkout.path])
        let applied = try await s.cli.run(["task", "apply", parentID, "--attempt", String(threeNumber), "--directory", checkout.path])
        #expect(applied.status == 0, "\(applied.stdout) \(applied.stderr)")
        #expect(try String(contentsOf: checkout.appendingPathComponent("three.txt"), encoding: .utf8) == "three\n")
        #expect(!FileManager.default.fileExists(atPath: checkout.appendingPathComponent("one.txt").path))

        // resume needs --attempt; with it, the attempt's task is continued as one ordinary task.
        let unchosen = try await s.cli.run(["task", "resume", parentID, "go on"])
        #expect(unchosen.status == 64 && unchosen.stderr.contains("--attempt K"), "\(unchosen.stderr)")
        let resumed = try await s.cli.run(["task", "resume", parentID, "go on", "--attempt", String(oneNumber), "--json"])
        #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
        let child = try #require(resumed.json)
        #expect(child["parent_id"] as? String == attempts[oneNumber - 1]["id"] as? String)
        #expect(child["attempts"] == nil && child["attempt_of"] == nil)
        let childFiles = try await s.cli.run(["task", "files", child["id"] as? String ?? "-", "--json"])
        let childSaved = Set(((childFiles.json?["artifacts"] as? [[String: Any]]) ?? []).filter { $0["kind"] as? String == "file" }.compactMap { $0["path"] as? String })
        #expect(childSaved == ["one.txt"], "the resumed attempt keeps its own changes: \(childFiles.stdout)")

        // resume --attempts N: N attempts of the continuation, each starting from attempt K's changes.
        let again = try await s.cli.run(["task", "resume", parentID, "once more", "--attempt", String(threeNumber), "--attempts", "2", "--json"])
        #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
        let second = try #require(again.json)
        let secondID = try #require(second["id"] as? String)
        #expect(second["parent_id"] as? String == attempts[threeNumber - 1]["id"] as? String)
        #expect((second["attempts"] as? [[String: Any]])?.map { $0["status"] as? String } == ["succeeded", "succeeded"], "\(again.stdout)")
        for number in 1...2 {
            let attempt = try await s.cli.run(["task", "get", secondID, "--attempt", String(number), "--json"])
            #expect(attempt.json?["parent_id"] as? String == attempts[threeNumber - 1]["id"] as? String)
            let diff = try await s.cli.run(["task", "diff", secondID, "--attempt", String(number)])
            #expect(diff.stdout.contains("+three") && !diff.stdout.contains("+one"), "\(diff.stdout)")
        }
    }

    @Test func theParentFailsWhenEveryAttemptFails() async throws {
        let s = try await setup([Self.fails, Self.fails])
        defer { Task { await s.cleanup() } }
        // One webhook, for the parent, after the outcome was printed.
        let received = Mutex<[HTTPRequest]>([])
        let receiver = LoopbackHTTPServer { request, writer in
            received.withLock { $0.append(request) }
            try? await writer.respond(status: 200)
        }
        try await receiver.start()
        defer { Task { try? await receiver.stop() } }
        var environment = s.cli.environment
        environment["CA_WEBHOOK_SECRET"] = "cli-whsec-" + UUID().uuidString
        let cli = CLI(environment: environment)
        let run = try await cli.run(["task", "create", "fail twice", "--repo", s.fixture.bare.path, "--attempts", "2",
                                     "--notify", "http://127.0.0.1:\(receiver.port)/hook"])
        #expect(run.status == 1, "\(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("[1] ") && run.stdout.contains("[2] "), "progress lines carry the attempt number: \(run.stdout)")
        #expect(run.stdout.contains("no attempt succeeded"), "\(run.stdout)")
        let listed = try await s.cli.run(["task", "list", "--json"])
        let tasks = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
        #expect(tasks.count == 1 && tasks.first?["status"] as? String == "failed", "\(listed.stdout)")
        let get = try await s.cli.run(["task", "get", tasks.first?["id"] as? String ?? "-", "--json"])
        let attempts = try #require(get.json?["attempts"] as? [[String: Any]], "\(get.stdout)")
        #expect(attempts.count == 2 && attempts.allSatisfy { $0["status"] as? String == "failed" })
        let deliveries = received.withLock { $0 }
        #expect(deliveries.count == 1, "\(deliveries.count) deliveries")
        let event = try deliveries.first.flatMap { try JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
        #expect(event?["id"] as? String == tasks.first?["id"] as? String && event?["status"] as? String == "failed", "\(String(describing: event))")
    }

    @Test func detachedAttemptsRunInTheBackground() async throws {
        let s = try await setup([Self.writesOne, Self.writesThree])
        defer { Task { await s.cleanup() } }
        let started = try await s.cli.run(["task", "create", "write files", "--repo", s.fixture.bare.path, "--attempts", "2", "--detach"])
        #expect(started.status == 0, "\(started.stderr)")
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let waited = try await s.cli.run(["task", "wait", id, "--timeout", "5m", "--json"], timeout: 320)
        #expect(waited.status == 0, "\(waited.stdout) \(waited.stderr)")
        #expect(waited.json?["status"] as? String == "succeeded")
        let get = try await s.cli.run(["task", "get", id, "--json"])
        let attempts = get.json?["attempts"] as? [[String: Any]] ?? []
        #expect(attempts.count == 2 && attempts.allSatisfy { $0["status"] as? String == "succeeded" }, "\(get.stdout)")
    }

    /// Waits until the fake has seen `count` conversations (agents asking for their first turn).
    static func waitForConversations(_ fake: FakeAnthropicServer, _ count: Int) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(120)
        while fake.conversationIDs.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        return fake.conversationIDs.count >= count
    }

    @Test func ctrlCAndCancelStopEveryAttempt() async throws {
        let s = try await setup([[.hang], [.hang], [.hang], [.hang]])
        defer { Task { await s.cleanup() } }

        // Ctrl-C on the foreground run stops both attempts; the parent is cancelled.
        let running = try s.cli.start(["task", "create", "hang twice", "--repo", s.fixture.bare.path, "--attempts", "2", "--json"])
        #expect(try await Self.waitForConversations(s.fake, 2))
        kill(running.process.processIdentifier, SIGINT)
        let output = try await s.cli.finish(running, timeout: 60)
        #expect(output.status == 2, "\(output.stdout) \(output.stderr)")
        #expect(output.json?["status"] as? String == "cancelled")
        #expect((output.json?["attempts"] as? [[String: Any]])?.map { $0["status"] as? String } == ["cancelled", "cancelled"], "\(output.stdout)")

        // ca task cancel PARENT from another shell stops a detached run's attempts.
        let detached = try await s.cli.run(["task", "create", "hang again", "--repo", s.fixture.bare.path, "--attempts", "2", "--detach"])
        let id = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(detached.status == 0 && id.count == 13, "\(detached.stderr)")
        #expect(try await Self.waitForConversations(s.fake, 4))
        let cancelled = try await s.cli.run(["task", "cancel", id])
        #expect(cancelled.status == 0 && cancelled.stdout.contains("\(id) cancelled"), "\(cancelled.stdout) \(cancelled.stderr)")
        let get = try await s.cli.run(["task", "get", id, "--json"])
        #expect(get.json?["status"] as? String == "cancelled")
        #expect((get.json?["attempts"] as? [[String: Any]])?.map { $0["status"] as? String } == ["cancelled", "cancelled"], "\(get.stdout)")
        let sandboxes = s.root.appendingPathComponent("home/sandboxes")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: sandboxes.path)) ?? []).isEmpty)
    }
}

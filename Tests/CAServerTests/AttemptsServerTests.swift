import AgentCore
import CAServer
import CATestSupport
import Foundation
import SandboxClient
import Synchronization
import Testing

/// `attempts` over the API and the remote CLI: the queue runs the attempts (not the parent), the
/// task shows them, and `--attempt K` reaches attempt K's patch and files.
@Suite(.serialized) struct AttemptsServerTests {
    @Test func attemptsRunOnTheServerAndTheRemoteCLIPicksOne() async throws {
        // Each attempt is its own conversation with the fake, in arrival order.
        let fake = FakeAnthropicServer(conversations: [
            [.toolUse("Bash", ["command": "printf 'one\\n' > one.txt", "description": "write one"]), .text("Wrote one.")],
            [.httpError(status: 500, message: "attempt exploded", shouldRetry: false)],
        ])
        try await fake.start()
        let s = try await ServerHarness.start(script: [], fake: fake)
        defer { Task { await s.cleanup() } }
        let key = try await s.key("erin")

        // Out of range: a problem, nothing stored.
        for bad in [0, 5] {
            let refused = try await s.createTask("write", key: key, extra: ["attempts": bad])
            #expect(refused.status == 400 || refused.status == 422, "\(bad): \(refused.status) \(refused.text)")
        }
        #expect((try await s.request("GET", "/v1/tasks", key: key).json["tasks"] as? [Any])?.isEmpty == true)

        let created = try await s.createTask("write one", key: key, extra: ["attempts": 2])
        #expect(created.status == 202, "\(created.text)")
        let parentID = try #require(created.json["id"] as? String)
        #expect((created.json["attempts"] as? [[String: Any]])?.count == 2)
        let ended = try await s.waitForEnd(parentID, key: key, timeout: .seconds(240))
        #expect(ended["status"] as? String == "succeeded", "\(ended)")
        let attempts = try #require(ended["attempts"] as? [[String: Any]])
        #expect(attempts.map { $0["status"] as? String ?? "?" }.sorted() == ["failed", "succeeded"])
        let costs = attempts.map { $0["cost_usd"] as? Double ?? 0 }
        #expect(abs((ended["cost_usd"] as? Double ?? -1) - costs.reduce(0, +)) < 1e-9)
        let winner = try #require(attempts.first { $0["status"] as? String == "succeeded" })
        let number = try #require(winner["attempt"] as? Int)
        let child = try await s.request("GET", "/v1/tasks/\(winner["id"] as? String ?? "-")", key: key).json
        #expect(child["attempt_of"] as? String == parentID && child["attempt"] as? Int == number)
        let listed = try await s.request("GET", "/v1/tasks", key: key).json["tasks"] as? [[String: Any]] ?? []
        #expect(listed.compactMap { $0["id"] as? String } == [parentID], "the list shows the parent only")

        // The remote CLI: --attempt K maps to the attempt's task.
        let home = s.root.appendingPathComponent("client-home")
        let environment = [
            "CA_HOME": home.path,
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "CA_SERVER": "http://127.0.0.1:\(s.port)",
            "CA_TOKEN": key,
        ]
        func ca(_ arguments: [String]) async throws -> HostProcess.Output {
            try await HostProcess.run(CABinary.path, arguments, environment: environment, timeout: .seconds(120))
        }
        let get = try await ca(["task", "get", parentID, "--json"])
        let remoteAttempts = (try? JSONSerialization.jsonObject(with: get.stdout)) as? [String: Any]
        #expect((remoteAttempts?["attempts"] as? [[String: Any]])?.count == 2, "\(get.stdoutText) \(get.stderrText)")
        let diff = try await ca(["task", "diff", parentID, "--attempt", String(number)])
        #expect(diff.status == 0 && diff.stdoutText.contains("+one"), "\(diff.stdoutText) \(diff.stderrText)")
        let missing = try await ca(["task", "diff", parentID])
        #expect(missing.status == 64 && missing.stderrText.contains("--attempt K"), "\(missing.stderrText)")
        let files = try await ca(["task", "files", parentID, "--attempt", String(number), "--json"])
        #expect(files.status == 0, "\(files.stderrText)")
        let winnerID = try #require(winner["id"] as? String)
        #expect(try String(contentsOf: home.appendingPathComponent("tasks/\(winnerID)/files/one.txt"), encoding: .utf8) == "one\n")

        // Created by the remote CLI: followed to the end, then the attempts are listed (the fake
        // answers conversations past its scripts with a plain "Done.").
        let remote = try await ca(["task", "create", "say done", "--repo", s.fixture.bare.path, "--sandbox", "local", "--attempts", "2"])
        #expect(remote.status == 0, "\(remote.stdoutText) \(remote.stderrText)")
        #expect(remote.stdoutText.contains("attempts 1 and 2 of 2 succeeded") && remote.stdoutText.contains("--attempt K"), "\(remote.stdoutText)")
        let remoteJSON = try await ca(["task", "create", "say done", "--repo", s.fixture.bare.path, "--sandbox", "local", "--attempts", "2", "--json"])
        let remoteParent = (try? JSONSerialization.jsonObject(with: remoteJSON.stdout)) as? [String: Any]
        #expect(remoteJSON.status == 0 && remoteParent?["status"] as? String == "succeeded", "\(remoteJSON.stdoutText) \(remoteJSON.stderrText)")
        #expect((remoteParent?["attempts"] as? [[String: Any]])?.count == 2, "\(remoteJSON.stdoutText)")
    }

    @Test func theWebhookIsPostedOnceForTheParent() async throws {
        let secret = "srv-whsec-" + UUID().uuidString
        let received = Mutex<[HTTPRequest]>([])
        let receiver = LoopbackHTTPServer { request, writer in
            received.withLock { $0.append(request) }
            try? await writer.respond(status: 200)
        }
        try await receiver.start()
        defer { Task { try? await receiver.stop() } }
        let fake = FakeAnthropicServer(conversations: [[.text("First.")], [.text("Second.")], [.text("Third.")]])
        try await fake.start()
        let s = try await ServerHarness.start(script: [], fake: fake, extraEnvironment: ["CA_WEBHOOK_SECRET": secret])
        defer { Task { await s.cleanup() } }
        let key = try await s.key("fern")
        let created = try await s.createTask("say something", key: key, extra: ["attempts": 3, "notify_url": "http://127.0.0.1:\(receiver.port)/ca"])
        #expect(created.status == 202, "\(created.text)")
        let id = try #require(created.json["id"] as? String)
        let ended = try await s.waitForEnd(id, key: key, timeout: .seconds(240))
        #expect(ended["status"] as? String == "succeeded")
        let deadline = ContinuousClock.now + .seconds(60)
        while received.withLock({ $0.isEmpty }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        // Every runner is done (and has posted what it posts) once the server stopped.
        await s.stop()
        let deliveries = received.withLock { $0 }
        #expect(deliveries.count == 1, "\(deliveries.count) deliveries")
        let event = try #require(try deliveries.first.flatMap { try JSONSerialization.jsonObject(with: $0.body) as? [String: Any] })
        #expect(event["id"] as? String == id && event["status"] as? String == "succeeded")
    }
}

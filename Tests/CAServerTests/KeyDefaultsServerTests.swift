import AgentCore
import CAServer
import CATestSupport
import Foundation
import Synchronization
import Testing

/// A key's defaults (`ca keys create --notify --max-cost`) and `max_cost_usd` through `ca serve`.
@Suite(.serialized) struct KeyDefaultsServerTests {
    @Test func aKeysCapAndWebhookApplyUnlessTheRequestNamesItsOwn() async throws {
        let received = Mutex<[HTTPRequest]>([])
        let receiver = LoopbackHTTPServer { request, writer in
            received.withLock { $0.append(request) }
            try? await writer.respond(status: 204)
        }
        try await receiver.start()
        defer { Task { try? await receiver.stop() } }
        // The first task is cheap; the second spends $0.60 a turn (the default model's price).
        let expensive = (1...5).map { ScriptedTurn.toolUse("Bash", ["command": .string("echo \($0)")]).usage(input: 150_000) }
        let s = try await ServerHarness.start(script: [ScriptedTurn.text("Cheap.").usage(input: 1_000)] + expensive + [.text("Done.")],
                                              extraEnvironment: ["CA_WEBHOOK_SECRET": "srv-whsec-" + UUID().uuidString])
        defer { Task { await s.cleanup() } }
        let hook = "http://127.0.0.1:\(receiver.port)/team"
        let key = try await TaskService(environment: s.environment).createKey(name: "team", admin: false, notifyURL: hook, maxCostUSD: 1.5)

        // The request's own cap wins over the key's.
        let own = try await s.request("POST", "/v1/tasks", key: key, json: [
            "prompt": "cheap", "repository_url": s.fixture.bare.path, "sandbox": "local", "max_cost_usd": 50,
        ])
        #expect(own.status == 202, "\(own.json)")
        #expect(own.json["max_cost_usd"] as? Double == 50)
        let ownEnd = try await s.waitForEnd(try #require(own.json["id"] as? String), key: key)
        #expect(ownEnd["status"] as? String == "succeeded")
        #expect(ownEnd["failure_reason"] is NSNull, "\(ownEnd)")

        // Without one, the key's cap and webhook apply: stopped at the third turn.
        let defaulted = try await s.request("POST", "/v1/tasks", key: key, json: [
            "prompt": "expensive", "repository_url": s.fixture.bare.path, "sandbox": "local",
        ])
        #expect(defaulted.json["max_cost_usd"] as? Double == 1.5, "\(defaulted.json)")
        let id = try #require(defaulted.json["id"] as? String)
        let ended = try await s.waitForEnd(id, key: key)
        #expect(ended["status"] as? String == "failed")
        #expect(ended["failure_reason"] as? String == "budget_exceeded", "\(ended)")
        #expect(s.fake.messagesRequests.count == 4, "1 cheap call, then 3 until the cap")

        let deadline = ContinuousClock.now + .seconds(30)
        while received.withLock({ $0.count < 2 }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let events = received.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
        #expect(events.count == 2)
        let last = try #require(events.first { $0["id"] as? String == id })
        #expect(last["failure_reason"] as? String == "budget_exceeded" && last["status"] as? String == "failed")

        // A cap out of range is a 422 problem.
        for bad in [0, -1, 1e9] as [Double] {
            let refused = try await s.request("POST", "/v1/tasks", key: key, json: [
                "prompt": "x", "repository_url": s.fixture.bare.path, "max_cost_usd": bad,
            ])
            #expect(refused.status == 422 || refused.status == 400, "\(bad): \(refused.status) \(refused.json)")
        }
    }
}

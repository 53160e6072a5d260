import CAServer
import CATestSupport
import Crypto
import Foundation
import Synchronization
import Testing

/// `notify_url` through `ca serve`: the server delivers a task's end, signed with its own secret.
@Suite(.serialized) struct WebhookServerTests {
    @Test func theServerDeliversSignedEvents() async throws {
        let secret = "srv-whsec-" + UUID().uuidString
        let received = Mutex<[HTTPRequest]>([])
        let receiver = LoopbackHTTPServer { request, writer in
            received.withLock { $0.append(request) }
            try? await writer.respond(status: 200)
        }
        try await receiver.start()
        defer { Task { try? await receiver.stop() } }
        let s = try await ServerHarness.start(script: [.text("Served.")], extraEnvironment: ["CA_WEBHOOK_SECRET": secret])
        defer { Task { await s.cleanup() } }
        let key = try await s.key("dana")
        let url = "http://127.0.0.1:\(receiver.port)/ca"
        let created = try await s.request("POST", "/v1/tasks", key: key, json: [
            "prompt": "say served", "repository_url": s.fixture.bare.path, "sandbox": "local", "notify_url": url,
        ])
        #expect(created.status == 202, "\(created.json)")
        let id = try #require(created.json["id"] as? String)
        let ended = try await s.waitForEnd(id, key: key)
        #expect(ended["status"] as? String == "succeeded")
        // Delivered after the end, within a few seconds.
        let deadline = ContinuousClock.now + .seconds(20)
        while received.withLock({ $0.isEmpty }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let delivery = try #require(received.withLock { $0.first })
        let timestamp = try #require(delivery.header("X-CA-Timestamp"))
        let expected = "sha256=" + HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).".utf8) + delivery.body, using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
        #expect(delivery.header("X-CA-Signature") == expected)
        let event = try #require(try JSONSerialization.jsonObject(with: delivery.body) as? [String: Any])
        #expect(event["id"] as? String == id && event["status"] as? String == "succeeded")

        // A bad URL is refused at once.
        let bad = try await s.request("POST", "/v1/tasks", key: key, json: [
            "prompt": "x", "repository_url": s.fixture.bare.path, "notify_url": "ftp://hooks.example/x",
        ])
        #expect(bad.status == 422, "\(bad.json)")
    }
}

import AgentCore
import CATestSupport
import Crypto
import Foundation
import Synchronization
import Testing

/// `--notify`: a task's end posted to a receiver on 127.0.0.1, signed (checked here with
/// swift-crypto, independently of ca's code) and retried; a receiver that never answers holds
/// up nothing but the delivery.
@Suite(.serialized) struct WebhookTests {
    static let secret = "whsec-" + UUID().uuidString

    /// What a receiver does: recompute the signature over the exact bytes and check the timestamp window.
    static func verify(_ request: HTTPRequest, body: Data? = nil, now: Date = Date()) -> Bool {
        guard let timestamp = request.header("X-CA-Timestamp").flatMap(Int.init), let signature = request.header("X-CA-Signature"),
              abs(now.timeIntervalSince1970 - Double(timestamp)) < 300 else { return false }
        var message = Data("\(timestamp).".utf8)
        message.append(body ?? request.body)
        let expected = "sha256=" + HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
        return expected == signature
    }

    @Test func deliveriesAreSignedRetriedAndRecorded() async throws {
        let received = Mutex<[HTTPRequest]>([])
        let receiver = LoopbackHTTPServer { request, writer in
            let count = received.withLock { $0.append(request); return $0.count }
            try? await writer.respond(status: count <= 2 ? 500 : 204)
        }
        try await receiver.start()
        defer { Task { try? await receiver.stop() } }
        let h = try await EngineHarness.make(script: [.text("All done.")], extra: ["CA_WEBHOOK_SECRET": Self.secret])
        defer { Task { await h.cleanup() } }

        var request = TaskRequest(prompt: "say done", repository: h.fixture.bare.path, timeoutSeconds: 120)
        request.notifyURL = "http://127.0.0.1:\(receiver.port)/hooks/ca"
        let task = try await h.service.create(request)
        let runner = try h.service.makeRunner(for: task)
        let final = await runner.run(taskID: task.id)
        #expect(final.status == .succeeded)
        #expect(received.withLock { $0.isEmpty }, "a delivery went out before the owner reported the outcome")
        await runner.notify(final)

        let requests = received.withLock { $0 }
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.method == "POST" && $0.path == "/hooks/ca" && Self.verify($0) })
        #expect(Set(requests.compactMap { $0.header("X-CA-Delivery") }).count == 1, "retries of one event keep its delivery id")
        // A tampered body fails the same check; so does an old timestamp.
        let first = try #require(requests.first)
        #expect(!Self.verify(first, body: first.body + Data(" ".utf8)))
        #expect(!Self.verify(first, now: Date().addingTimeInterval(3_600)))
        let event = try #require(try JSONSerialization.jsonObject(with: first.body) as? [String: Any])
        #expect(event["event"] as? String == "task.finished")
        #expect(event["id"] as? String == task.id && event["status"] as? String == "succeeded")
        #expect(event["result"] as? String == "All done.")
        let stored = try #require(try await h.service.store.task(id: task.id))
        #expect(stored.notifyAttempts == 3 && stored.notifyStatus == "HTTP 204")
        // The secret is never stored.
        #expect(try h.everythingWritten().range(of: Data(Self.secret.utf8)) == nil)
    }

    @Test func aReceiverThatNeverAnswersDelaysNothingButItsDelivery() async throws {
        let receiver = LoopbackHTTPServer { _, _ in
            try? await Task.sleep(for: .seconds(120))
        }
        try await receiver.start()
        defer { Task { try? await receiver.stop() } }
        let h = try await EngineHarness.make(script: [.text("Done.")], extra: [
            "CA_WEBHOOK_SECRET": Self.secret, "CA_NOTIFY_URL": "http://127.0.0.1:\(receiver.port)/",
            "CA_NOTIFY_TIMEOUT": "2s", "CA_NOTIFY_RETRY_WINDOW": "3s",
        ])
        defer { Task { await h.cleanup() } }
        let task = try await h.service.create(TaskRequest(prompt: "x", repository: h.fixture.bare.path, timeoutSeconds: 120))
        #expect(task.notifyURL == "http://127.0.0.1:\(receiver.port)/", "CA_NOTIFY_URL is the default")
        let runner = try h.service.makeRunner(for: task)
        let final = await runner.run(taskID: task.id)
        // The outcome is recorded before any delivery is tried.
        #expect(try await h.service.store.task(id: task.id)?.status == .succeeded)
        let clock = ContinuousClock.now
        await runner.notify(final)
        let waited = ContinuousClock.now - clock
        #expect(waited < .seconds(60), "bounded by the 3 s window, not the receiver's 120 s: \(waited)")
        let stored = try #require(try await h.service.store.task(id: task.id))
        #expect(stored.notifyStatus == "timed out", "\(stored.notifyStatus ?? "-")")
        #expect((stored.notifyAttempts ?? 0) >= 1)
    }

    @Test func badWebhookSettingsAreRefused() async throws {
        let unsigned = try await EngineHarness.make(script: [])
        defer { Task { await unsigned.cleanup() } }
        var request = TaskRequest(prompt: "x", repository: unsigned.fixture.bare.path, timeoutSeconds: 60)
        request.notifyURL = "https://hooks.example/ca"
        await #expect(throws: TaskError.invalidArgument("--notify needs CA_WEBHOOK_SECRET (at least 16 characters): every delivery is signed with it")) {
            try await unsigned.service.create(request)
        }
        let signed = try await EngineHarness.make(script: [], extra: ["CA_WEBHOOK_SECRET": Self.secret])
        defer { Task { await signed.cleanup() } }
        for bad in ["ftp://hooks.example/x", "hooks.example/x", "https://user:pw@hooks.example/x", "https:///nohost"] {
            var r = TaskRequest(prompt: "x", repository: signed.fixture.bare.path, timeoutSeconds: 60)
            r.notifyURL = bad
            do {
                _ = try await signed.service.create(r)
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.description.contains("--notify"), "\(error)")
            }
        }
    }
}

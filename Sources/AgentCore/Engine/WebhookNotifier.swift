import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore

/// `--notify URL`: posts a JSON event when a task ends, signed the way GitHub and Stripe sign
/// theirs, and retried with backoff for a bounded time.
///
/// Each delivery carries `X-CA-Timestamp` (Unix seconds) and `X-CA-Signature: sha256=<hex>`, the
/// HMAC-SHA256 with `CA_WEBHOOK_SECRET` of `"<timestamp>.<body>"`: a receiver recomputes it over
/// the exact bytes it got, compares in constant time, and refuses old timestamps (replays).
/// `X-CA-Delivery` is the same on every retry of one event. Attempts and the last answer are
/// recorded on the task; the secret is never stored, logged or sent.
public struct WebhookNotifier: Sendable {
    let secret: String
    let httpClient: HTTPClient
    /// Retries stop once this much time has passed since the first attempt.
    let retryWindow: Duration
    /// One attempt's time limit.
    let attemptTimeout: Duration

    public init(secret: String, httpClient: HTTPClient, retryWindow: Duration = .seconds(300), attemptTimeout: Duration = .seconds(10)) {
        self.secret = secret
        self.httpClient = httpClient
        self.retryWindow = retryWindow
        self.attemptTimeout = attemptTimeout
    }

    /// `CA_WEBHOOK_SECRET` when it is long enough to sign with.
    public static func secret(in environment: [String: String]) -> String? {
        guard let secret = environment["CA_WEBHOOK_SECRET"], secret.utf8.count >= 16 else { return nil }
        return secret
    }

    /// Only absolute http(s) URLs with a host, without credentials, of at most 2048 characters.
    static func check(url: String) throws(TaskError) {
        guard url.utf8.count <= 2048, let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty else {
            throw TaskError.invalidArgument("--notify takes an http or https URL, not '\(String(url.prefix(200)))'")
        }
        guard parsed.user == nil, parsed.password == nil else {
            throw TaskError.invalidArgument("--notify URLs cannot carry a user or password (deliveries are signed with CA_WEBHOOK_SECRET)")
        }
    }

    /// The signature header's value for a body sent at `timestamp`.
    public static func signature(secret: String, timestamp: Int, body: Data) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + Hex.encode(code)
    }

    /// The event for a task that ended.
    struct Event: Encodable {
        var event = "task.finished"
        var id: String
        var status: String
        var error: String?
        var failure_reason: String?
        var result: String?
        var cost_usd: Double?
        var num_turns: Int?
        var pull_request_url: String?
        var review_url: String?
        var finished_at: Date?
    }

    /// Delivers the end of `task` to its URL, recording each attempt on the task. Returns when a
    /// receiver answered 2xx or the retry window has passed.
    func deliver(_ task: TaskRecord, store: TaskStore) async {
        guard let url = task.notifyURL else { return }
        let summary = task.result.map { $0.count > 2_000 ? String($0.prefix(2_000)) + "…" : $0 }
        let event = Event(id: task.id, status: task.status.rawValue, error: task.error, failure_reason: task.failureReason?.rawValue,
                          result: summary, cost_usd: task.costUSD,
                          num_turns: task.numTurns, pull_request_url: task.pullRequestURL, review_url: task.reviewURL, finished_at: task.finishedAt)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(event) else { return }
        let delivery = UUID().uuidString.lowercased()
        let start = ContinuousClock.now
        var attempt = 0
        var backoff: Duration = .seconds(1)
        while true {
            attempt += 1
            let status = await post(body, to: url, delivery: delivery)
            let attempts = attempt
            _ = try? await store.update(task.id) { t in
                t.notifyAttempts = attempts
                t.notifyStatus = status.text
            }
            if status.delivered { return }
            let elapsed = ContinuousClock.now - start
            guard elapsed + backoff < retryWindow, !Task.isCancelled else { return }
            do { try await Task.sleep(for: backoff) } catch { return }
            backoff = min(backoff * 2, .seconds(60))
        }
    }

    private func post(_ body: Data, to url: String, delivery: String) async -> (delivered: Bool, text: String) {
        let timestamp = Int(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "ca/\(CAVersion.current)")
        request.headers.add(name: "X-CA-Event", value: "task.finished")
        request.headers.add(name: "X-CA-Delivery", value: delivery)
        request.headers.add(name: "X-CA-Timestamp", value: String(timestamp))
        request.headers.add(name: "X-CA-Signature", value: Self.signature(secret: secret, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await httpClient.execute(request, timeout: .nanoseconds(Int64(attemptTimeout.components.seconds) * 1_000_000_000))
            // The answer's body is not needed: read at most a little of it and let go.
            _ = try? await response.body.collect(upTo: 4_096)
            let code = Int(response.status.code)
            return ((200..<300).contains(code), "HTTP \(code)")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return (false, "timed out")
        } catch {
            return (false, "failed: \(String(String(describing: error).prefix(200)))")
        }
    }
}

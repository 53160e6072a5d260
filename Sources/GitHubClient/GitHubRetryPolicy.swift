import Foundation

/// How ``GitHubAPI`` waits out rate limits and repeats failed reads.
///
/// - A rate-limit answer (403 or 429 with `x-ratelimit-remaining: 0`, a secondary-limit message or
///   `Retry-After`) is waited out — until `x-ratelimit-reset` + 1 s for the primary limit,
///   `Retry-After` or else 60 s for the secondary one — and the request repeated, for any method
///   (the request was not processed). When the needed wait is longer than ``maximumWait`` the call
///   fails at once with ``GitHubError/rateLimited(resetsAt:secondary:)``.
/// - `GET` requests are also repeated after HTTP 502, 503 and 504 and after connection failures,
///   with a short exponential backoff starting at ``initialBackoff``.
/// - Writes are never repeated after a server error or a connection failure: GitHub may have
///   acted on them.
///
/// At most ``maximumAttempts`` attempts are made in total, the first one included.
public struct GitHubRetryPolicy: Sendable {
    /// The longest single wait; a longer rate-limit wait fails the call instead.
    public var maximumWait: Duration
    /// Attempts in total, the first one included (1 = never repeat).
    public var maximumAttempts: Int
    /// Backoff before the second attempt of a read after a server or connection error; doubles per attempt.
    public var initialBackoff: Duration
    /// Waits for a duration; throws when the task is cancelled. Injectable for tests.
    public var sleep: @Sendable (Duration) async throws -> Void

    /// Creates a policy.
    public init(
        maximumWait: Duration = .seconds(60),
        maximumAttempts: Int = 3,
        initialBackoff: Duration = .seconds(1),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.maximumWait = maximumWait
        self.maximumAttempts = max(1, maximumAttempts)
        self.initialBackoff = initialBackoff
        self.sleep = sleep
    }

    /// Waits of up to 60 s each, 3 attempts.
    public static let standard = GitHubRetryPolicy()

    /// Never waits nor repeats.
    public static let none = GitHubRetryPolicy(maximumWait: .zero, maximumAttempts: 1)

    /// The backoff after failed attempt number `attempt` (1-based) of a read, capped by ``maximumWait``.
    func backoff(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 20)
        return min(initialBackoff * (1 << exponent), maximumWait)
    }
}

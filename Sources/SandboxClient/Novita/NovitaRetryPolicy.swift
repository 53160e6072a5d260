import Foundation

/// When and how long to wait before repeating a safe request.
///
/// Only idempotent or read-only calls are repeated: REST `GET`, `DELETE`, `/timeout`, `/connect`,
/// envd reads and file transfers. They are repeated after HTTP 429, 502, 503 and 504 and after a
/// reset connection, with exponential backoff and jitter, or after exactly `Retry-After` seconds when the
/// server says so. Sleeping and randomness are injectable so tests need not wait.
public struct NovitaRetryPolicy: Sendable {
    /// Attempts in total, the first one included (1 = no retries).
    public var maximumAttempts: Int
    /// Backoff before the second attempt; it doubles for each further attempt.
    public var initialDelay: Duration
    /// Upper bound of the exponential backoff.
    public var maximumDelay: Duration
    /// Upper bound honoured for a server's `Retry-After`.
    public var maximumRetryAfter: Duration
    /// Waits for a duration; throws when the task is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// Returns a random factor in the given range (jitter).
    public var random: @Sendable (ClosedRange<Double>) -> Double

    public init(
        maximumAttempts: Int = 4,
        initialDelay: Duration = .milliseconds(500),
        maximumDelay: Duration = .seconds(8),
        maximumRetryAfter: Duration = .seconds(60),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        random: @escaping @Sendable (ClosedRange<Double>) -> Double = { Double.random(in: $0) }
    ) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maximumRetryAfter = maximumRetryAfter
        self.sleep = sleep
        self.random = random
    }

    /// The default: 4 attempts, 0.5 s doubling up to 8 s, jittered.
    public static var standard: NovitaRetryPolicy { NovitaRetryPolicy() }

    /// Never repeats a request.
    public static var none: NovitaRetryPolicy { NovitaRetryPolicy(maximumAttempts: 1) }

    /// HTTP statuses after which a safe request is repeated.
    public static let retryableStatuses: Set<Int> = [429, 502, 503, 504]

    /// How long to wait after failed attempt number `attempt` (1-based).
    ///
    /// - Parameter retryAfter: The server's `Retry-After`, which wins when present (capped by ``maximumRetryAfter``).
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter {
            return min(retryAfter, maximumRetryAfter)
        }
        let exponent = min(max(attempt - 1, 0), 30)
        let exponential = initialDelay * (1 << exponent)
        let capped = min(exponential, maximumDelay)
        // "Equal jitter": between half and all of the backoff.
        return capped * random(0.5...1.0)
    }

    /// Parses a `Retry-After` header given in seconds (HTTP dates are ignored). Values beyond a
    /// day are read as a day (``delay(afterAttempt:retryAfter:)`` caps them further), so a hostile
    /// `1e300` cannot overflow the conversion.
    public static func retryAfter(_ header: String?) -> Duration? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), header.count <= 32,
              let seconds = Double(header), seconds >= 0, seconds.isFinite else {
            return nil
        }
        return .milliseconds(Int64((min(seconds, 86_400) * 1000).rounded()))
    }
}

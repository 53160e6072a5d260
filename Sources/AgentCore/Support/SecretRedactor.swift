import Foundation

/// Replaces known secret values with `[REDACTED]` in text that is about to be stored or shown.
public struct SecretRedactor: Sendable {
    private let secrets: [String]

    /// Secrets shorter than 6 characters are ignored (they would redact ordinary words).
    public init(secrets: [String]) {
        self.secrets = Array(Set(secrets.filter { $0.count >= 6 })).sorted { $0.count > $1.count }
    }

    public var isEmpty: Bool { secrets.isEmpty }

    /// The text with every secret replaced.
    public func redact(_ text: String) -> String {
        redactIfNeeded(text) ?? text
    }

    /// The text with every secret replaced, or `nil` when it holds none (the common case, which
    /// then costs one substring search per secret and no copy).
    public func redactIfNeeded(_ text: String) -> String? {
        var result: String?
        for secret in secrets where (result ?? text).contains(secret) {
            result = (result ?? text).replacingOccurrences(of: secret, with: "[REDACTED]")
        }
        return result
    }
}

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
        guard !secrets.isEmpty else { return text }
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: "[REDACTED]")
        }
        return text
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        for secret in secrets where Self.contains(result ?? text, secret) {
            result = (result ?? text).replacingOccurrences(of: secret, with: "[REDACTED]")
        }
        return result
    }

    /// Byte-wise substring test (`memchr` for the first byte, then `memcmp`): much cheaper on
    /// Linux than `String.contains`, which goes through Foundation's Unicode-aware search.
    /// Secrets are compared as UTF-8 bytes.
    static func contains(_ text: String, _ secret: String) -> Bool {
        var text = text, secret = secret
        return text.withUTF8 { haystack in
            secret.withUTF8 { needle in
                guard let h = haystack.baseAddress, let n = needle.baseAddress, !needle.isEmpty else { return needle.isEmpty }
                guard haystack.count >= needle.count else { return false }
                let last = haystack.count - needle.count
                var offset = 0
                while offset <= last {
                    guard let hit = memchr(h + offset, Int32(n.pointee), last - offset + 1) else { return false }
                    let position = UnsafeRawPointer(hit) - UnsafeRawPointer(h)
                    if memcmp(hit, n, needle.count) == 0 { return true }
                    offset = position + 1
                }
                return false
            }
        }
    }
}

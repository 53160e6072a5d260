/// Credentials recognised by their shape alone, whoever they belong to: GitHub's tokens
/// (`ghp_` classic, `gho_` OAuth, `ghu_` user-to-server, `ghs_` installation and Actions,
/// `ghr_` refresh, `github_pat_` fine-grained), each followed by at least
/// ``minimumBodyLength`` characters of `[A-Za-z0-9_]`.
///
/// ``SecretRedactor`` replaces them even when ca was never given the token: an agent that finds
/// one in a repository or its environment must not get it into the store, the logs or a review.
enum TokenShapes {
    /// Prefixes of GitHub tokens (their documented shapes).
    static let prefixes: [[UInt8]] = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"].map { Array($0.utf8) }
    /// Characters after the prefix for a match: real tokens have 36 or more; 20 keeps words
    /// such as `ghs_test` apart from tokens.
    static let minimumBodyLength = 20
    /// Length of the shortest match.
    static let minimumLength = 4 + minimumBodyLength

    /// Calls `body` with the range of every token-shaped run in `bytes`.
    static func forEachMatch(in bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        guard bytes.count >= minimumLength else { return }
        for prefix in prefixes {
            prefix.withUnsafeBufferPointer { p in
                ByteSearch.forEachOccurrence(of: p, in: bytes) { hit in
                    // A prefix inside a longer word (`xghp_…`) still starts a token: redact it too.
                    var end = hit.upperBound
                    while end < bytes.count, isTokenCharacter(bytes[end]) { end += 1 }
                    if end - hit.upperBound >= minimumBodyLength { body(hit.lowerBound..<end) }
                }
            }
        }
    }

    /// Whether `bytes` hold a token-shaped run.
    static func containsMatch(in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var found = false
        forEachMatch(in: bytes) { _ in found = true }
        return found
    }

    private static func isTokenCharacter(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }
}

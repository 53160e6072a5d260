import Foundation

/// Helpers for text that comes from GitHub or may contain secrets.
enum GitHubText {
    /// The longest message taken from a GitHub response, in characters.
    static let maximumMessageLength = 500

    /// `text` with control characters turned into spaces, runs of whitespace collapsed, trimmed and
    /// cut to `limit` characters (with `…`).
    static func sanitized(_ text: String, limit: Int = maximumMessageLength) -> String {
        var output = ""
        var pendingSpace = false
        var count = 0
        for character in text {
            // Control and format characters (escape sequences, bidi overrides) stand alone as characters; checking the
            // first scalar leaves emoji joined with U+200D intact.
            let category = character.unicodeScalars.first?.properties.generalCategory
            let isSpace = character.isWhitespace || category == .control || category == .format
            if isSpace {
                pendingSpace = !output.isEmpty
                continue
            }
            if pendingSpace {
                output.append(" ")
                count += 1
                pendingSpace = false
            }
            if count >= limit {
                output.append("…")
                break
            }
            output.append(character)
            count += 1
        }
        return output
    }

    /// `text` with every occurrence of each secret replaced by `***`.
    static func redacting(_ secrets: [String], in text: String) -> String {
        var text = text
        for secret in secrets where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        return text
    }

    /// `text` with anything shaped like a GitHub token (`ghp_…`, `gho_…`, `ghu_…`, `ghs_…`, `ghr_…`,
    /// `github_pat_…`) replaced by `***`, and the credentials after `Bearer`, `token` or `Basic` too.
    static func maskTokens(in text: String) -> String {
        let words = splitKeepingSeparators(text)
        var output = ""
        var maskNext = false
        for word in words {
            guard word.isToken else {
                output += word.text
                continue
            }
            let lowered = word.text.lowercased()
            let looksLikeToken = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"].contains { lowered.hasPrefix($0) }
                && word.text.count >= 12
            let looksLikeCredential = word.text.count >= 8 && word.text.contains { $0.isNumber || "_+/=".contains($0) }
            if looksLikeToken || (maskNext && looksLikeCredential) {
                output += "***"
            } else {
                output += word.text
            }
            maskNext = ["bearer", "token", "basic"].contains(lowered)
        }
        return output
    }

    private struct Word {
        var text: String
        var isToken: Bool
    }

    /// Splits into runs of token characters (`[A-Za-z0-9_+/=-]`) and runs of anything else.
    private static func splitKeepingSeparators(_ text: String) -> [Word] {
        var words: [Word] = []
        var current = ""
        var currentIsToken = false
        for character in text {
            let isTokenCharacter = character.isASCII && (character.isLetter || character.isNumber || "_+/=-".contains(character))
            if current.isEmpty || isTokenCharacter == currentIsToken {
                current.append(character)
                currentIsToken = isTokenCharacter
            } else {
                words.append(Word(text: current, isToken: currentIsToken))
                current = String(character)
                currentIsToken = isTokenCharacter
            }
        }
        if !current.isEmpty {
            words.append(Word(text: current, isToken: currentIsToken))
        }
        return words
    }
}

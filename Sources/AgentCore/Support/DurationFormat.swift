import Foundation

/// Parses and prints durations such as `90s`, `15m`, `2h`, `1h30m`.
public enum DurationFormat {
    /// Longest duration accepted: 365 days. Longer values (and values too large to count) are
    /// rejected rather than wrapped around.
    public static let maximumSeconds = 365 * 86400

    /// Seconds in a duration string; a bare number means seconds. `nil` when malformed, not
    /// positive, or longer than ``maximumSeconds``.
    public static func parse(_ text: String) -> Int? {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !s.isEmpty, s.count <= 64 else { return nil }
        if s.allSatisfy(\.isASCIIDigit) {
            guard let n = Int(s), n > 0, n <= maximumSeconds else { return nil }
            return n
        }
        var total = 0, number = ""
        for ch in s {
            if ch.isASCIIDigit { number.append(ch); continue }
            let unit: Int
            switch ch {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            // Int(_:) is nil for an empty or too large number; each step stays far from overflow
            // because totals above the maximum stop the loop.
            guard let n = Int(number), n <= maximumSeconds else { return nil }
            total += n * unit
            guard total <= maximumSeconds else { return nil }
            number = ""
        }
        guard number.isEmpty, total > 0 else { return nil }
        return total
    }

    /// `1h30m`, `15m`, `45s`.
    public static func describe(seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        let h = seconds / 3600, m = (seconds % 3600) / 60, s = seconds % 60
        var out = ""
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if s > 0 && h == 0 { out += "\(s)s" }
        return out
    }

    /// `1.2s`, `3m05s`.
    public static func elapsed(_ interval: TimeInterval) -> String {
        if interval < 60 { return String(format: "%.1fs", interval) }
        let total = Int(interval.rounded())
        return String(format: "%dm%02ds", total / 60, total % 60)
    }
}

extension Character {
    /// `0` to `9` (not other scripts' digits, which `Int(_:)` would not read anyway).
    fileprivate var isASCIIDigit: Bool { isASCII && isWholeNumber }
}

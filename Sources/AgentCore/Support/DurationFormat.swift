import Foundation

/// Parses and prints durations such as `90s`, `15m`, `2h`, `1h30m`.
public enum DurationFormat {
    /// Seconds in a duration string; a bare number means seconds. `nil` when malformed or not positive.
    public static func parse(_ text: String) -> Int? {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let n = Int(s) { return n > 0 ? n : nil }
        var total = 0, number = ""
        for ch in s {
            if ch.isNumber { number.append(ch); continue }
            guard let n = Int(number) else { return nil }
            switch ch {
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            case "d": total += n * 86400
            default: return nil
            }
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

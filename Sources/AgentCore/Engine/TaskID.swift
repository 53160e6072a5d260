import Foundation

/// Task ids: 13 characters, time-ordered, lowercase letters and digits (`0nabx3v9k2c3m`).
public enum TaskID {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    /// A new id: 8 characters of milliseconds since 2024 (base 32, good for 34 years), then 5 random ones.
    public static func make(now: Date = Date()) -> String {
        var millis = UInt64(max(0, now.timeIntervalSince1970 - 1_704_067_200) * 1000)
        var head: [Character] = []
        for _ in 0..<8 {
            head.append(alphabet[Int(millis % 32)])
            millis /= 32
        }
        var id = String(head.reversed())
        for _ in 0..<5 { id.append(alphabet.randomElement()!) }
        return id
    }

    /// Whether `text` has the form of a whole id (13 characters of the alphabet), not a prefix.
    public static func isWhole(_ text: String) -> Bool {
        text.utf8.count == 13 && text.allSatisfy { alphabet.contains($0) }
    }
}

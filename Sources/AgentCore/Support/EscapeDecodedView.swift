#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Some text with its JSON string escapes (`\uXXXX`, `\/`, `\\`, `\n`, …) and URL percent
/// escapes (`%HH`, either hex case) decoded, remembering where each decoded byte came from, so
/// that a secret found in the decoded bytes can be cut out of the original ones.
///
/// Every escape is decoded, wherever it is and whatever is mixed (`s%6B\u002dant…`); a decoded
/// byte is never decoded again.
struct EscapeDecodedView {
    /// The decoded bytes.
    private(set) var bytes: [UInt8] = []
    /// For each decoded byte, where its escape (or plain byte) starts in the original text, and
    /// how long it is. Empty when built without mapping.
    private var starts: [Int] = []
    private var lengths: [UInt8] = []
    private let isMapped: Bool

    /// Decodes `text`; with `mapping`, also records where each decoded byte came from (needed by
    /// ``originalRange(of:)``; nine extra bytes per byte).
    init(_ text: UnsafeBufferPointer<UInt8>, mapping: Bool) {
        isMapped = mapping
        bytes.reserveCapacity(text.count)
        if mapping { starts.reserveCapacity(text.count); lengths.reserveCapacity(text.count) }
        let n = text.count
        var i = 0
        while i < n {
            let b = text[i]
            if b == 0x5C, i + 1 < n { // backslash
                let c = text[i + 1]
                switch c {
                case 0x75: // u
                    if let (scalar, length) = Self.unicodeEscape(text, at: i) {
                        for byte in scalar.utf8 { append(byte, from: i, length: length) }
                        i += length
                        continue
                    }
                case 0x2F, 0x5C, 0x22: // / \ "
                    append(c, from: i, length: 2); i += 2; continue
                case 0x62: append(0x08, from: i, length: 2); i += 2; continue // b
                case 0x66: append(0x0C, from: i, length: 2); i += 2; continue // f
                case 0x6E: append(0x0A, from: i, length: 2); i += 2; continue // n
                case 0x72: append(0x0D, from: i, length: 2); i += 2; continue // r
                case 0x74: append(0x09, from: i, length: 2); i += 2; continue // t
                default: break
                }
            } else if b == 0x25, i + 2 < n, let high = Self.hexValue(text[i + 1]), let low = Self.hexValue(text[i + 2]) {
                append(high << 4 | low, from: i, length: 3)
                i += 3
                continue
            }
            append(b, from: i, length: 1)
            i += 1
        }
    }

    private mutating func append(_ byte: UInt8, from start: Int, length: Int) {
        bytes.append(byte)
        if isMapped { starts.append(start); lengths.append(UInt8(length)) }
    }

    /// The original bytes that decoded to `range` of ``bytes`` (built with mapping only).
    func originalRange(of range: Range<Int>) -> Range<Int> {
        let last = range.upperBound - 1
        return starts[range.lowerBound]..<(starts[last] + Int(lengths[last]))
    }

    /// Whether `text` holds an escape that could hide a secret: `\u`, `\/` or `%HH`. Cheap
    /// (`memchr`), so the view is only built when it can matter.
    static func isNeeded(for text: UnsafeBufferPointer<UInt8>) -> Bool {
        hasJSONEscape(text) || hasPercentEscape(text)
    }

    /// Whether `text` holds a `\/` or a `\uXXXX` of a printable character (outside an escaped
    /// backslash). Escaped control characters (`\u001b` of coloured output) cannot hide a secret.
    static func hasJSONEscape(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = text.baseAddress else { return false }
        var offset = 0
        while offset < text.count, let hit = memchr(base + offset, 0x5C, text.count - offset) {
            let position = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
            guard position + 1 < text.count else { return false }
            switch text[position + 1] {
            case 0x2F:
                return true
            case 0x75:
                if let unit = hex4(text, at: position + 2) {
                    if unit >= 0x20 && unit != 0x7F { return true }
                    offset = position + 6
                } else {
                    offset = position + 2
                }
            default:
                offset = position + 2 // skips the escaped character, so `\\u` is not an escape
            }
        }
        return false
    }

    /// Whether `text` holds `%` followed by two hex digits.
    static func hasPercentEscape(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = text.baseAddress else { return false }
        var offset = 0
        while offset < text.count, let hit = memchr(base + offset, 0x25, text.count - offset) {
            let position = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
            if position + 2 < text.count, hexValue(text[position + 1]) != nil, hexValue(text[position + 2]) != nil { return true }
            offset = position + 1
        }
        return false
    }

    /// `\uXXXX`, or a surrogate pair `\uD8xx\uDCxx`, at `i`: the scalar and the escape's length.
    /// A lone surrogate is not decoded.
    private static func unicodeEscape(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar, Int)? {
        guard let unit = hex4(text, at: i + 2) else { return nil }
        if (0xD800...0xDBFF).contains(unit) {
            guard i + 11 < text.count, text[i + 6] == 0x5C, text[i + 7] == 0x75, let low = hex4(text, at: i + 8),
                  (0xDC00...0xDFFF).contains(low),
                  let scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) else { return nil }
            return (scalar, 12)
        }
        guard let scalar = Unicode.Scalar(unit) else { return nil }
        return (scalar, 6)
    }

    private static func hex4(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt32? {
        guard i + 3 < text.count else { return nil }
        var value: UInt32 = 0
        for k in i..<(i + 4) {
            guard let digit = hexValue(text[k]) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }
}

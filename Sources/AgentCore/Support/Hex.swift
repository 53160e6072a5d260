/// Lowercase hexadecimal text of bytes (hashes, ids): a table lookup, not `String(format:)`,
/// which costs microseconds per byte on Linux and sits on every authenticated request.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        String(decoding: digits(of: bytes), as: UTF8.self)
    }

    /// The hex digits of `bytes` as UTF-8 bytes.
    static func digits<Bytes: Sequence>(of bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }
}

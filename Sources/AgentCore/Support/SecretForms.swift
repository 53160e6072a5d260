import Foundation

/// The byte strings a secret is searched for, besides its escaped forms (JSON `\u` escapes and
/// percent-encoding are undone by ``EscapeDecodedView`` instead, so every mix of them is found).
///
/// - the exact value;
/// - base64 and base64url: for each of the three byte offsets a secret can start at inside a
///   longer base64 stream, the part of the encoding that depends on the secret alone;
/// - hex, lower and upper case.
enum SecretForms {
    static func needles(for secret: [UInt8]) -> [[UInt8]] {
        var forms: [[UInt8]] = [secret]
        for alignment in 0..<3 {
            let standard = base64Core(of: secret, alignment: alignment)
            forms.append(standard)
            forms.append(standard.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: "-") : $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 })
        }
        let lower = Hex.digits(of: secret)
        forms.append(lower)
        forms.append(lower.map { $0 >= UInt8(ascii: "a") ? $0 - 0x20 : $0 })
        var seen = Set<[UInt8]>()
        return forms.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// The base64 characters that encode only bits of `secret` when it starts `alignment` bytes
    /// into a group of three: the stable middle of its encoding at that offset.
    static func base64Core(of secret: [UInt8], alignment: Int) -> [UInt8] {
        let encoded = Array((Data(repeating: 0, count: alignment) + Data(secret)).base64EncodedString().utf8)
        let first = (8 * alignment + 5) / 6
        let end = 8 * (alignment + secret.count) / 6
        guard first < end else { return [] }
        return Array(encoded[first..<end])
    }
}

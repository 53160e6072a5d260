/// Percent-encoding for URL path segments and query strings.
enum GitHubPercentEncoding {
    /// `text` with everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) percent-encoded, so `/`
    /// becomes `%2F`.
    static func segment(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            let isUnreserved = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if isUnreserved {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                output.unicodeScalars.append("%")
                output.unicodeScalars.append(hex[Int(byte >> 4)])
                output.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return output
    }

    /// `name=value&…` with both sides encoded as ``segment(_:)``.
    static func query(_ items: [(String, String)]) -> String {
        items.map { "\(segment($0.0))=\(segment($0.1))" }.joined(separator: "&")
    }
}

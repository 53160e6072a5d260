import Foundation

/// Percent-encoding as the reference SDK does it (Python's `quote`, `urlencode` and httpx).
enum NovitaPercentEncoding {
    /// RFC 3986 unreserved characters: never encoded.
    static let unreserved: CharacterSet = {
        var set = CharacterSet()
        set.insert(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return set
    }()

    /// Unreserved characters and `/` (Python's `quote` default, and fine in a query value).
    static let unreservedAndSlash: CharacterSet = unreserved.union(CharacterSet(charactersIn: "/"))

    /// Encodes every byte outside `allowed` as `%XX` (upper-case hex).
    static func encode(_ text: String, allowing allowed: CharacterSet = unreserved) -> String {
        text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The `metadata` query value of `GET /v2/sandboxes` (reference §3.4), already encoded for the URL.
    ///
    /// Each key and value is percent-encoded (`quote`), the pairs are form-encoded (`urlencode`) and the
    /// resulting string is encoded once more as a query value: `{"owner":"c a"}` → `owner%3Dc%252520a`.
    static func metadataQueryValue(_ metadata: [String: String]) -> String {
        let pairs = metadata.sorted { $0.key < $1.key }.map { key, value in
            let k = encode(encode(key, allowing: unreservedAndSlash))
            let v = encode(encode(value, allowing: unreservedAndSlash))
            return "\(k)=\(v)"
        }
        return encode(pairs.joined(separator: "&"))
    }
}

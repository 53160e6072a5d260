import Foundation

/// One HTTP request received by a ``LoopbackHTTPServer``, with its body fully read.
///
/// The derived properties (``path``, ``query`` and ``rawQueryItems``) are computed from ``uri``
/// when the request is created; changing ``uri`` afterwards does not update them.
public struct HTTPRequest: Sendable {
    /// One `name=value` pair of the query string, exactly as it was sent (not percent-decoded).
    public struct QueryItem: Sendable, Hashable, CustomStringConvertible {
        /// The name as sent, still percent-encoded.
        public var name: String
        /// The value as sent, still percent-encoded; empty when the item had no `=`.
        public var value: String

        /// Creates a query item.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }

        public var description: String { "\(name)=\(value)" }
    }

    /// The request method, such as `"GET"` or `"POST"`.
    public var method: String
    /// The raw request target, including the query string.
    public var uri: String
    /// The percent-decoded path, without the query string.
    public var path: String
    /// The percent-decoded query items; when a name repeats, the last value wins.
    ///
    /// Only percent-escapes are decoded: a `+` stays a `+`.
    public var query: [String: String]
    /// The query items in the order and encoding they were sent, for exact-encoding assertions.
    public var rawQueryItems: [QueryItem]
    /// The header fields in the order they were received.
    public var headers: [(name: String, value: String)]
    /// The complete request body.
    public var body: Data

    /// Creates a request and derives ``path``, ``query`` and ``rawQueryItems`` from `uri`.
    public init(method: String, uri: String, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body

        let withoutFragment = uri.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let parts = withoutFragment.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = parts.first.map(String.init) ?? ""
        self.path = Self.percentDecoded(rawPath)

        var items: [QueryItem] = []
        if parts.count > 1 {
            for piece in parts[1].split(separator: "&", omittingEmptySubsequences: true) {
                let pair = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(pair[0])
                let value = pair.count > 1 ? String(pair[1]) : ""
                items.append(QueryItem(name: name, value: value))
            }
        }
        self.rawQueryItems = items
        var decoded: [String: String] = [:]
        for item in items {
            decoded[Self.percentDecoded(item.name)] = Self.percentDecoded(item.value)
        }
        self.query = decoded
    }

    /// The value of the first header field called `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// All values of the header fields called `name`, compared case-insensitively.
    public func headerValues(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return headers.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    /// The body decoded as UTF-8, or `nil` when it is not valid UTF-8.
    public var bodyText: String? {
        String(data: body, encoding: .utf8)
    }

    private static func percentDecoded(_ text: String) -> String {
        text.removingPercentEncoding ?? text
    }
}

import Foundation

/// One request the fake Novita service received, for assertions.
public struct FakeNovitaRequestRecord: Sendable {
    /// HTTP method.
    public var method: String
    /// Decoded path without the query.
    public var path: String
    /// The raw request target, query included.
    public var uri: String
    /// Header fields in order.
    public var headers: [(name: String, value: String)]
    /// The request body.
    public var body: Data
    /// When it arrived.
    public var receivedAt: Date

    /// The first value of a header (case-insensitive), or `nil`.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The body parsed as a JSON object (for unary RPC and REST bodies), or `nil`.
    public var jsonObject: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }

    /// The raw query string (after `?`), or the empty string.
    public var rawQuery: String {
        guard let index = uri.firstIndex(of: "?") else { return "" }
        return String(uri[uri.index(after: index)...])
    }
}

import Foundation

/// The response to a ``NovitaHTTPRequest``: status and headers, with a body that may still be arriving.
public struct NovitaHTTPResponse: Sendable {
    /// HTTP status code.
    public var status: Int
    /// Header fields in order.
    public var headers: [(name: String, value: String)]
    /// The body, delivered in chunks as they arrive.
    public var body: NovitaHTTPBody

    public init(status: Int, headers: [(name: String, value: String)] = [], body: NovitaHTTPBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header (case-insensitive name), or `nil`.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

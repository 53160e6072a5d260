import Foundation

/// An HTTP request of the Novita backend, independent of the HTTP library that sends it.
public struct NovitaHTTPRequest: Sendable {
    /// HTTP method, such as `GET` or `POST`.
    public var method: String
    /// Absolute URL including the query.
    public var url: URL
    /// Header fields in order; names are case-insensitive.
    public var headers: [(name: String, value: String)]
    /// Body, sent with a `Content-Length`; `nil` for none.
    public var body: Data?
    /// Time limit for the whole exchange; `nil` for none (streams, whose idle time the transport bounds).
    public var timeout: Duration?

    public init(method: String, url: URL, headers: [(name: String, value: String)] = [], body: Data? = nil, timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// `base` without its trailing slashes, followed by `suffix` (a path that starts with `/`, with
    /// its query already encoded); `nil` when that is not a URL.
    static func url(_ base: URL, appending suffix: String) -> URL? {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return URL(string: text + suffix)
    }

    /// The first value of a header (case-insensitive name), or `nil`.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

extension NovitaHTTPRequest: CustomStringConvertible {
    /// Method, URL without query and header names; no header values (they carry credentials).
    public var description: String {
        "\(method) \(NovitaRequestExecutor.describe(url)) [\(headers.map(\.name).joined(separator: ", "))]"
    }
}

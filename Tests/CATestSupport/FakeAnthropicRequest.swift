import Foundation

/// A request received by a ``FakeAnthropicServer``, as recorded for assertions.
public struct FakeAnthropicRequest: Sendable {
    /// How the fake answered the request.
    public enum Answer: Sendable, Hashable {
        /// Served scripted turn number `index` (0-based).
        case scripted(index: Int)
        /// Served the final "Done." turn after the script ran out.
        case final
        /// Served the short text for requests that offer no core tools (script not consumed).
        case nonToolReply
        /// Not a Messages API call (for example `HEAD /api/hello`), or an invalid body.
        case other
    }

    /// The 0-based position of this request among all requests the fake received.
    public var sequence: Int
    /// The HTTP request as received (headers, raw body, query).
    public var http: HTTPRequest
    /// The body parsed as JSON, or `nil` when it is not JSON.
    public var json: FakeJSON?
    /// The working directory learned from the request (`Primary working directory: …`, or
    /// `CWD: …` under `--bare`), if any.
    public var workingDirectory: String?
    /// How the fake answered.
    public var answer: Answer

    /// Creates a record.
    public init(sequence: Int, http: HTTPRequest, json: FakeJSON?, workingDirectory: String?, answer: Answer) {
        self.sequence = sequence
        self.http = http
        self.json = json
        self.workingDirectory = workingDirectory
        self.answer = answer
    }

    /// The request method.
    public var method: String { http.method }
    /// The percent-decoded path, such as `/v1/messages`.
    public var path: String { http.path }
    /// The header fields as received.
    public var headers: [(name: String, value: String)] { http.headers }
    /// The raw body.
    public var rawBody: Data { http.body }
    /// The raw body as text (empty when not UTF-8).
    public var bodyText: String { http.bodyText ?? "" }

    /// The first header called `name`, compared case-insensitively.
    public func header(_ name: String) -> String? { http.header(name) }

    /// Whether this is a `POST /v1/messages` call.
    public var isMessagesCall: Bool { method == "POST" && path == "/v1/messages" }
    /// The `model` field.
    public var model: String? { json?["model"]?.stringValue }
    /// Whether the client asked for a streamed (SSE) answer.
    public var isStreaming: Bool { json?["stream"]?.boolValue ?? false }
    /// The `messages` array (empty when absent).
    public var messages: [FakeJSON] { json?["messages"]?.arrayValue ?? [] }
    /// The `role` of each message, in order (`user`, `assistant`, `system`, …).
    public var messageRoles: [String] { messages.map { $0["role"]?.stringValue ?? "" } }
    /// The names of the offered tools, in order.
    public var toolNames: [String] {
        (json?["tools"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    /// Whether `text` occurs in any string of the `messages` array.
    public func messagesContain(_ text: String) -> Bool {
        messages.contains { message in message.allStrings.contains { $0.contains(text) } }
    }

    /// Whether `text` occurs in any string of the `system` field.
    public func systemContains(_ text: String) -> Bool {
        (json?["system"]?.allStrings ?? []).contains { $0.contains(text) }
    }
}

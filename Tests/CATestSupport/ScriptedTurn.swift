import Foundation

/// One scripted answer of a ``FakeAnthropicServer``: an assistant message or an HTTP error,
/// with optional timing faults.
///
/// ```swift
/// let script: [ScriptedTurn] = [
///     .toolUse("Write", ["file_path": "{{cwd}}/hello.txt", "content": "hello\n"]),
///     .toolUse("Bash", ["command": "cat hello.txt"]),
///     .text("All done."),
/// ]
/// ```
/// `{{cwd}}` in any string of a tool input is replaced with the working directory that the
/// fake learned from the request.
public struct ScriptedTurn: Sendable {
    /// One content block of a scripted assistant message.
    public enum Block: Sendable, Hashable {
        /// A text block.
        case text(String)
        /// A tool call; the fake generates its id.
        case toolUse(name: String, input: FakeJSON)
    }

    /// An HTTP error answer, with an Anthropic error body
    /// `{"type":"error","error":{"type":…,"message":…}}`.
    public struct HTTPError: Sendable, Hashable {
        /// The HTTP status, such as 500 or 529.
        public var status: Int
        /// The Anthropic error type, such as `api_error` or `overloaded_error`.
        public var type: String
        /// The error message.
        public var message: String
        /// The value of the `x-should-retry` header; `nil` sends no such header.
        public var shouldRetry: Bool?

        /// Creates an HTTP error answer.
        public init(status: Int, type: String = "api_error", message: String = "Internal server error", shouldRetry: Bool? = false) {
            self.status = status
            self.type = type
            self.message = message
            self.shouldRetry = shouldRetry
        }
    }

    /// What the turn answers.
    public enum Reply: Sendable, Hashable {
        /// An assistant message with these blocks (text first, then tool calls, in order).
        case message([Block])
        /// An HTTP error.
        case httpError(HTTPError)
        /// No answer at all: the request hangs until the client goes away or the server stops.
        case hang
    }

    /// What the turn answers.
    public var reply: Reply
    /// A wait before anything (even the headers) is sent.
    public var delay: Duration
    /// When set, the connection is closed abruptly after this many SSE events of a streamed
    /// message (0 = right after the headers), to simulate a dropped stream.
    public var dropAfterEvents: Int?
    /// Overrides the stop reason; by default `tool_use` when the message has tool calls,
    /// else `end_turn`.
    public var stopReason: String?
    /// Overrides the reported `output_tokens`.
    public var outputTokens: Int?
    /// Overrides the reported `input_tokens` (by default about a quarter of the request's bytes).
    public var inputTokens: Int?
    /// Reported `cache_read_input_tokens` (default 0).
    public var cacheReadTokens: Int
    /// Reported `cache_creation_input_tokens` (default 0, all with the 5-minute lifetime).
    public var cacheCreationTokens: Int = 0

    /// Creates a turn.
    public init(
        reply: Reply,
        delay: Duration = .zero,
        dropAfterEvents: Int? = nil,
        stopReason: String? = nil,
        outputTokens: Int? = nil,
        inputTokens: Int? = nil,
        cacheReadTokens: Int = 0
    ) {
        self.inputTokens = inputTokens
        self.cacheReadTokens = cacheReadTokens
        self.reply = reply
        self.delay = delay
        self.dropAfterEvents = dropAfterEvents
        self.stopReason = stopReason
        self.outputTokens = outputTokens
    }

    /// This turn, reporting the given usage.
    public func usage(input: Int? = nil, output: Int? = nil, cacheRead: Int = 0, cacheCreation: Int = 0) -> ScriptedTurn {
        var turn = self
        turn.cacheCreationTokens = cacheCreation
        turn.inputTokens = input
        turn.outputTokens = output ?? outputTokens
        turn.cacheReadTokens = cacheRead
        return turn
    }

    /// An assistant message with only text.
    public static func text(_ text: String) -> ScriptedTurn {
        ScriptedTurn(reply: .message([.text(text)]))
    }

    /// An assistant message with one tool call, optionally preceded by text.
    public static func toolUse(_ name: String, _ input: FakeJSON, text: String? = nil) -> ScriptedTurn {
        var blocks: [Block] = []
        if let text { blocks.append(.text(text)) }
        blocks.append(.toolUse(name: name, input: input))
        return ScriptedTurn(reply: .message(blocks))
    }

    /// An assistant message with several tool calls, optionally preceded by text.
    public static func toolUses(_ calls: [(name: String, input: FakeJSON)], text: String? = nil) -> ScriptedTurn {
        var blocks: [Block] = []
        if let text { blocks.append(.text(text)) }
        blocks += calls.map { Block.toolUse(name: $0.name, input: $0.input) }
        return ScriptedTurn(reply: .message(blocks))
    }

    /// An assistant message with these blocks.
    public static func message(_ blocks: [Block]) -> ScriptedTurn {
        ScriptedTurn(reply: .message(blocks))
    }

    /// An HTTP error with an Anthropic error body. `shouldRetry: false` (the default) sends
    /// `x-should-retry: false`, so the client gives up at once; `nil` omits the header.
    public static func httpError(
        status: Int,
        type: String = "api_error",
        message: String = "Internal server error",
        shouldRetry: Bool? = false
    ) -> ScriptedTurn {
        ScriptedTurn(reply: .httpError(HTTPError(status: status, type: type, message: message, shouldRetry: shouldRetry)))
    }

    /// A turn that never answers; the request is cancelled when the client disconnects or the
    /// server stops.
    public static var hang: ScriptedTurn {
        ScriptedTurn(reply: .hang)
    }

    /// This turn, answered only after `delay`.
    public func delayed(by delay: Duration) -> ScriptedTurn {
        var copy = self
        copy.delay = delay
        return copy
    }

    /// This turn, with its stream cut off after `events` SSE events.
    public func droppingConnection(afterEvents events: Int) -> ScriptedTurn {
        var copy = self
        copy.dropAfterEvents = events
        return copy
    }
}

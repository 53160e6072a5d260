import Foundation
import Synchronization

/// A protocol-faithful fake of the Anthropic Messages API for driving a real `claude` CLI in tests.
///
/// It answers `POST /v1/messages` (with or without `?beta=true`) from a script of
/// ``ScriptedTurn``s, served in order. Streamed requests (`"stream": true`, which is what
/// Claude Code always sends) get a chunked `text/event-stream` answer with the events
/// `message_start`, `ping`, `content_block_start`, `content_block_delta` (`text_delta` /
/// `input_json_delta`), `content_block_stop`, `message_delta` and `message_stop`, each event
/// in its own HTTP chunk; other requests get a JSON message body. When the script is used
/// up, every further request gets ``Options-swift.struct/finalText`` with stop reason `end_turn`.
///
/// Every request is recorded (see ``requests``), including those that hang.
///
/// ```swift
/// let fake = FakeAnthropicServer(script: [
///     .toolUse("Write", ["file_path": "{{cwd}}/hello.txt", "content": "hi\n"]),
///     .text("Wrote it."),
/// ])
/// try await fake.start()
/// // run claude with ANTHROPIC_BASE_URL=fake.baseURL …
/// try await fake.stop()
/// ```
public final class FakeAnthropicServer: Sendable {
    /// Behaviour switches of the fake.
    public struct Options: Sendable {
        /// When `true` (the default), only requests that offer the core tool
        /// (``coreToolName``) consume the script; the others get ``nonToolReplyText``.
        public var onlyCoreToolRequestsConsumeScript: Bool
        /// The tool whose presence in `tools` marks a main-loop request. Default `Bash`.
        public var coreToolName: String
        /// The text answered once the script is used up. Default `Done.`.
        public var finalText: String
        /// The text answered to requests that do not consume the script. Default `OK.`.
        public var nonToolReplyText: String
        /// The number of characters per `text_delta` / `input_json_delta`. Default 32.
        public var deltaSize: Int
        /// The directory used for `{{cwd}}` when none can be learned from a request.
        public var fallbackWorkingDirectory: String?

        /// Creates options; every argument has the default described on its property.
        public init(
            onlyCoreToolRequestsConsumeScript: Bool = true,
            coreToolName: String = "Bash",
            finalText: String = "Done.",
            nonToolReplyText: String = "OK.",
            deltaSize: Int = 32,
            fallbackWorkingDirectory: String? = nil
        ) {
            self.onlyCoreToolRequestsConsumeScript = onlyCoreToolRequestsConsumeScript
            self.coreToolName = coreToolName
            self.finalText = finalText
            self.nonToolReplyText = nonToolReplyText
            self.deltaSize = max(1, deltaSize)
            self.fallbackWorkingDirectory = fallbackWorkingDirectory
        }
    }

    /// The placeholder replaced in tool inputs by the learned working directory.
    public static let workingDirectoryPlaceholder = "{{cwd}}"

    private let core: FakeAnthropicCore
    private let server: LoopbackHTTPServer

    /// Creates a fake that serves `script` in order. Nothing is bound until ``start()``.
    public init(script: [ScriptedTurn] = [], options: Options = Options()) {
        let core = FakeAnthropicCore(script: script, options: options)
        self.core = core
        self.server = LoopbackHTTPServer { request, writer in
            await core.handle(request, writer)
        }
    }

    /// Creates a fake that gives each conversation its own script: the first conversation whose
    /// request consumes a turn gets `conversations[0]`, the next one `conversations[1]`, and so
    /// on, in arrival order (a conversation is Claude Code's session, named by the
    /// `X-Claude-Code-Session-Id` header). For agents that run at once on the same prompt, such
    /// as the attempts of a best-of-N task, which cannot be told apart otherwise. A conversation
    /// past the last script, or past its script's end, gets ``Options/finalText``.
    public convenience init(conversations: [[ScriptedTurn]], options: Options = Options()) {
        self.init(core: FakeAnthropicCore(script: [], conversations: conversations, options: options))
    }

    private init(core: FakeAnthropicCore) {
        self.core = core
        self.server = LoopbackHTTPServer { request, writer in
            await core.handle(request, writer)
        }
    }

    /// The conversations (session ids) that got a script so far, in the order they got it.
    public var conversationIDs: [String] { core.conversationIDs }

    /// Binds `127.0.0.1` on an ephemeral port.
    public func start() async throws {
        try await server.start()
    }

    /// Closes all connections (hanging turns included) and stops listening.
    public func stop() async throws {
        try await server.stop()
    }

    /// The bound port; valid after ``start()``.
    public var port: Int { server.port }

    /// `http://127.0.0.1:<port>`, the value for `ANTHROPIC_BASE_URL`; valid after ``start()``.
    public var baseURL: URL { server.baseURL }

    /// Every request received so far, in arrival order.
    public var requests: [FakeAnthropicRequest] { core.requests }

    /// The `POST /v1/messages` requests received so far, in arrival order.
    public var messagesRequests: [FakeAnthropicRequest] { core.requests.filter(\.isMessagesCall) }

    /// How many scripted turns have been served (or started, for delayed and hanging turns).
    public var consumedTurnCount: Int { core.consumedTurnCount }

    /// How many scripted turns are left.
    public var remainingTurnCount: Int { core.remainingTurnCount }

    /// Appends turns to the end of the script.
    public func append(_ turns: [ScriptedTurn]) {
        core.append(turns)
    }

    /// Waits until at least `count` requests were received.
    /// - Returns: `false` when `timeout` passed first.
    public func waitForRequests(count: Int, timeout: Duration = .seconds(30)) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while core.requestCount < count {
            if clock.now >= deadline { return false }
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                return false
            }
        }
        return true
    }

    /// The working directory stated in a Messages request: the last
    /// `Primary working directory: <path>` line (a `(was …)` suffix is dropped), else the last
    /// `CWD: <path>` line, searched in `system`, then `messages`, then the whole body.
    public static func workingDirectory(in json: FakeJSON) -> String? {
        let preferred = (json["system"]?.allStrings ?? []) + (json["messages"]?.allStrings ?? [])
        for strings in [preferred, json.allStrings] {
            if let found = lastValue(after: "Primary working directory:", in: strings, lineStartOnly: false) {
                return found.replacingOccurrences(of: #"\s+\(was .*\)$"#, with: "", options: .regularExpression)
            }
            if let found = lastValue(after: "CWD:", in: strings, lineStartOnly: true) {
                return found
            }
        }
        return nil
    }

    private static func lastValue(after marker: String, in strings: [String], lineStartOnly: Bool) -> String? {
        var result: String?
        for string in strings where string.contains(marker) {
            for line in string.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
                guard let range = line.range(of: marker, options: .backwards) else { continue }
                if lineStartOnly {
                    let before = line[line.startIndex..<range.lowerBound].trimmingCharacters(in: CharacterSet(charactersIn: " \t-*#"))
                    guard before.isEmpty else { continue }
                }
                let value = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
                if value.hasPrefix("/") { result = value }
            }
        }
        return result
    }
}

/// The state and request handling behind a ``FakeAnthropicServer``.
private final class FakeAnthropicCore: Sendable {
    private struct State {
        var script: [ScriptedTurn]
        var nextTurn = 0
        var requests: [FakeAnthropicRequest] = []
        /// Per-conversation scripts (``FakeAnthropicServer/init(conversations:options:)``), the
        /// conversations by arrival, and the next turn of each.
        var conversations: [[ScriptedTurn]]?
        var conversationOrder: [String] = []
        var conversationNextTurn: [String: Int] = [:]
    }

    private let options: FakeAnthropicServer.Options
    private let state: Mutex<State>

    init(script: [ScriptedTurn], conversations: [[ScriptedTurn]]? = nil, options: FakeAnthropicServer.Options) {
        self.options = options
        self.state = Mutex(State(script: script, conversations: conversations))
    }

    var conversationIDs: [String] { state.withLock { $0.conversationOrder } }

    var requests: [FakeAnthropicRequest] { state.withLock { $0.requests } }
    var requestCount: Int { state.withLock { $0.requests.count } }
    var consumedTurnCount: Int { state.withLock { $0.nextTurn } }
    var remainingTurnCount: Int { state.withLock { $0.script.count - $0.nextTurn } }

    func append(_ turns: [ScriptedTurn]) {
        state.withLock { $0.script += turns }
    }

    // MARK: - Handling

    func handle(_ request: HTTPRequest, _ writer: HTTPResponseWriter) async {
        let json = request.body.isEmpty ? nil : try? FakeJSON.parse(request.body)
        let isMessagesCall = request.method == "POST" && request.path == "/v1/messages" && json?.objectValue != nil
        let workingDirectory = json.flatMap(FakeAnthropicServer.workingDirectory(in:))
        let offersCoreTool = (json?["tools"]?.arrayValue ?? []).contains {
            $0["name"]?.stringValue == options.coreToolName
        }

        let conversation = request.headers.first { $0.name.lowercased() == "x-claude-code-session-id" }?.value
            ?? json?["metadata"]?["user_id"]?.stringValue ?? ""
        let (sequence, turn) = state.withLock { state -> (Int, ScriptedTurn?) in
            let sequence = state.requests.count
            let turn: ScriptedTurn?
            let answer: FakeAnthropicRequest.Answer
            if !isMessagesCall {
                (turn, answer) = (nil, .other)
            } else if options.onlyCoreToolRequestsConsumeScript && !offersCoreTool {
                (turn, answer) = (.text(options.nonToolReplyText), .nonToolReply)
            } else if let conversations = state.conversations {
                if state.conversationNextTurn[conversation] == nil {
                    state.conversationOrder.append(conversation)
                    state.conversationNextTurn[conversation] = 0
                }
                let index = state.conversationOrder.firstIndex(of: conversation) ?? 0
                let next = state.conversationNextTurn[conversation] ?? 0
                if index < conversations.count, next < conversations[index].count {
                    (turn, answer) = (conversations[index][next], .scripted(index: next))
                    state.conversationNextTurn[conversation] = next + 1
                    state.nextTurn += 1
                } else {
                    (turn, answer) = (.text(options.finalText), .final)
                }
            } else if state.nextTurn < state.script.count {
                (turn, answer) = (state.script[state.nextTurn], .scripted(index: state.nextTurn))
                state.nextTurn += 1
            } else {
                (turn, answer) = (.text(options.finalText), .final)
            }
            state.requests.append(
                FakeAnthropicRequest(
                    sequence: sequence,
                    http: request,
                    json: json,
                    workingDirectory: workingDirectory,
                    answer: answer
                )
            )
            return (sequence, turn)
        }

        do {
            if let turn, let json {
                try await serve(turn, sequence: sequence, request: request, json: json,
                                workingDirectory: workingDirectory ?? options.fallbackWorkingDirectory, writer: writer)
            } else {
                try await serveOther(request, json: json, writer: writer)
            }
        } catch {
            // The client went away or the turn was cancelled: nothing more to send.
        }
    }

    private func serveOther(_ request: HTTPRequest, json: FakeJSON?, writer: HTTPResponseWriter) async throws {
        switch (request.method, request.path) {
        case ("HEAD", _), ("GET", "/api/hello"):
            try await writer.respond(status: 200)
        case ("POST", "/v1/messages/count_tokens"):
            let tokens = Self.estimateTokens(request.body.count)
            try await respond(writer, status: 200, json: ["input_tokens": .number(Double(tokens))])
        case ("POST", "/v1/messages"):
            try await respond(writer, status: 400, json: Self.errorBody(type: "invalid_request_error", message: "request body is not a JSON object"))
        default:
            try await respond(writer, status: 404, json: Self.errorBody(type: "not_found_error", message: "Not found: \(request.method) \(request.path)"))
        }
    }

    private func serve(
        _ turn: ScriptedTurn,
        sequence: Int,
        request: HTTPRequest,
        json: FakeJSON,
        workingDirectory: String?,
        writer: HTTPResponseWriter
    ) async throws {
        if turn.delay > .zero {
            do {
                try await Task.sleep(for: turn.delay)
            } catch {
                await writer.abort()
                return
            }
        }
        let requestID = "req_fake_\(sequence)"
        switch turn.reply {
        case .hang:
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
            await writer.abort()
        case .httpError(let error):
            var headers = [("request-id", requestID)]
            if let retry = error.shouldRetry {
                headers.append(("x-should-retry", retry ? "true" : "false"))
            }
            try await respond(writer, status: error.status, json: Self.errorBody(type: error.type, message: error.message), headers: headers)
        case .message(let blocks):
            let message = ScriptedMessage(
                turn: turn,
                blocks: blocks.map { Self.substitute(workingDirectory, in: $0) },
                sequence: sequence,
                model: json["model"]?.stringValue ?? "claude-fake",
                inputTokens: turn.inputTokens ?? Self.estimateTokens(request.body.count)
            )
            if json["stream"]?.boolValue == true {
                try await stream(message, dropAfterEvents: turn.dropAfterEvents, requestID: requestID, writer: writer)
            } else {
                try await respond(writer, status: 200, json: message.fullMessage(), headers: [("request-id", requestID)])
            }
        }
    }

    private func stream(_ message: ScriptedMessage, dropAfterEvents: Int?, requestID: String, writer: HTTPResponseWriter) async throws {
        try await writer.writeHead(status: 200, headers: [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("request-id", requestID),
        ])
        for (index, event) in message.events(deltaSize: options.deltaSize).enumerated() {
            if let dropAfterEvents, index >= dropAfterEvents {
                await writer.abort()
                return
            }
            try await writer.write(Data("event: \(event.name)\ndata: \(event.data.jsonString)\n\n".utf8))
        }
        if dropAfterEvents != nil {
            // Every event went out; still drop the connection instead of ending the body.
            await writer.abort()
            return
        }
        try await writer.end()
    }

    private func respond(_ writer: HTTPResponseWriter, status: Int, json: FakeJSON, headers: [(String, String)] = []) async throws {
        try await writer.respond(status: status, headers: [("content-type", "application/json")] + headers, body: json.jsonData)
    }

    private static func errorBody(type: String, message: String) -> FakeJSON {
        ["type": "error", "error": ["type": .string(type), "message": .string(message)]]
    }

    private static func estimateTokens(_ byteCount: Int) -> Int {
        max(1, byteCount / 4)
    }

    private static func substitute(_ workingDirectory: String?, in block: ScriptedTurn.Block) -> ScriptedTurn.Block {
        guard let workingDirectory, case .toolUse(let name, let input) = block else { return block }
        return .toolUse(name: name, input: input.mapStrings {
            $0.replacingOccurrences(of: FakeAnthropicServer.workingDirectoryPlaceholder, with: workingDirectory)
        })
    }
}

/// One assistant message about to be sent, in both the streamed and the plain JSON shape.
private struct ScriptedMessage {
    struct Event {
        var name: String
        var data: FakeJSON
    }

    let id: String
    let model: String
    let blocks: [ScriptedTurn.Block]
    let stopReason: String
    let inputTokens: Int
    let outputTokens: Int
    let cacheReadTokens: Int
    let cacheCreationTokens: Int
    let sequence: Int

    init(turn: ScriptedTurn, blocks: [ScriptedTurn.Block], sequence: Int, model: String, inputTokens: Int) {
        self.id = "msg_fake_\(sequence)"
        self.model = model
        self.blocks = blocks
        self.sequence = sequence
        self.inputTokens = inputTokens
        self.cacheReadTokens = turn.cacheReadTokens
        self.cacheCreationTokens = turn.cacheCreationTokens
        let hasToolUse = blocks.contains { if case .toolUse = $0 { true } else { false } }
        self.stopReason = turn.stopReason ?? (hasToolUse ? "tool_use" : "end_turn")
        let produced = blocks.reduce(0) { total, block in
            switch block {
            case .text(let text): total + text.utf8.count
            case .toolUse(let name, let input): total + name.utf8.count + input.jsonString.utf8.count
            }
        }
        self.outputTokens = turn.outputTokens ?? max(1, produced / 4)
    }

    private func toolUseID(_ index: Int) -> String {
        "toolu_fake_\(sequence)_\(index)"
    }

    private func usage(input: Int, output: Int) -> FakeJSON {
        [
            "input_tokens": .number(Double(input)),
            "output_tokens": .number(Double(output)),
            "cache_creation_input_tokens": .number(Double(cacheCreationTokens)),
            "cache_read_input_tokens": .number(Double(cacheReadTokens)),
        ]
    }

    /// The non-streamed message body.
    func fullMessage() -> FakeJSON {
        let content: [FakeJSON] = blocks.enumerated().map { index, block in
            switch block {
            case .text(let text):
                ["type": "text", "text": .string(text)]
            case .toolUse(let name, let input):
                ["type": "tool_use", "id": .string(toolUseID(index)), "name": .string(name), "input": input]
            }
        }
        return [
            "id": .string(id),
            "type": "message",
            "role": "assistant",
            "model": .string(model),
            "content": .array(content),
            "stop_reason": .string(stopReason),
            "stop_sequence": nil,
            "usage": usage(input: inputTokens, output: outputTokens),
        ]
    }

    /// The SSE events of the streamed message, in order.
    func events(deltaSize: Int) -> [Event] {
        var events: [Event] = [
            Event(name: "message_start", data: [
                "type": "message_start",
                "message": [
                    "id": .string(id),
                    "type": "message",
                    "role": "assistant",
                    "model": .string(model),
                    "content": [],
                    "stop_reason": nil,
                    "stop_sequence": nil,
                    "usage": usage(input: inputTokens, output: 1),
                ],
            ]),
            Event(name: "ping", data: ["type": "ping"]),
        ]
        for (index, block) in blocks.enumerated() {
            let position = FakeJSON.number(Double(index))
            switch block {
            case .text(let text):
                events.append(Event(name: "content_block_start", data: [
                    "type": "content_block_start", "index": position,
                    "content_block": ["type": "text", "text": ""],
                ]))
                for piece in Self.pieces(of: text, size: deltaSize) {
                    events.append(Event(name: "content_block_delta", data: [
                        "type": "content_block_delta", "index": position,
                        "delta": ["type": "text_delta", "text": .string(piece)],
                    ]))
                }
            case .toolUse(let name, let input):
                events.append(Event(name: "content_block_start", data: [
                    "type": "content_block_start", "index": position,
                    "content_block": ["type": "tool_use", "id": .string(toolUseID(index)), "name": .string(name), "input": [:]],
                ]))
                for piece in Self.pieces(of: input.jsonString, size: deltaSize) {
                    events.append(Event(name: "content_block_delta", data: [
                        "type": "content_block_delta", "index": position,
                        "delta": ["type": "input_json_delta", "partial_json": .string(piece)],
                    ]))
                }
            }
            events.append(Event(name: "content_block_stop", data: ["type": "content_block_stop", "index": position]))
        }
        events.append(Event(name: "message_delta", data: [
            "type": "message_delta",
            "delta": ["stop_reason": .string(stopReason), "stop_sequence": nil],
            "usage": usage(input: inputTokens, output: outputTokens),
        ]))
        events.append(Event(name: "message_stop", data: ["type": "message_stop"]))
        return events
    }

    private static func pieces(of text: String, size: Int) -> [String] {
        var result: [String] = []
        var current = ""
        var count = 0
        for character in text {
            current.append(character)
            count += 1
            if count == size {
                result.append(current)
                current = ""
                count = 0
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}

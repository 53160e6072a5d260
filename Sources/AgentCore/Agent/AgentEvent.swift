import Foundation

/// One line of Claude Code's `--output-format stream-json` output, with the fields ca uses.
///
/// Unknown line types are kept as ``Kind/other``; the raw line is always stored as is.
public struct AgentEvent: Sendable, Hashable {
    /// What the line says.
    public enum Kind: Sendable, Hashable {
        /// `system`/`init`: the session started.
        case initialized(sessionID: String?, model: String?)
        /// Text the assistant wrote.
        case assistantText(String)
        /// The assistant called a tool.
        case toolUse(id: String, name: String, input: JSONValue)
        /// A tool's result came back.
        case toolResult(toolUseID: String, isError: Bool, content: String)
        /// `system`/`api_retry`.
        case apiRetry(attempt: Int, error: String?)
        /// The final `result` line.
        case result(AgentResult)
        /// Anything else (`system`/`status`, `stream_event`, …).
        case other
    }

    /// `type` of the line.
    public var type: String
    /// `subtype` of the line, when present.
    public var subtype: String?
    /// Session id carried by the line.
    public var sessionID: String?
    /// What ca understood of it. A line can carry several content blocks; see ``kinds``.
    public var kinds: [Kind]
    /// The model call an `assistant` line belongs to, with the usage the line reports (partial:
    /// Claude Code writes one line per content block, before the call's final output count).
    public var messageUsage: MessageUsage?

    /// The usage an `assistant` line reports for its model call.
    public struct MessageUsage: Sendable, Hashable {
        /// `message.id`, the same on every line of one call.
        public var messageID: String
        public var model: String?
        public var usage: TokenUsage
    }

    /// Parses one stream-json line. Returns `nil` when the line is not a JSON object.
    ///
    /// Uses `JSONSerialization` and reads only the fields ca needs: on Linux this is about twice
    /// as fast as a `Decodable` model with open-ended tool inputs (see `ca-bench`).
    public static func parse(_ line: Data) -> AgentEvent? {
        guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any],
              let type = object["type"] as? String else { return nil }
        return AgentEvent(type: type, object: object)
    }

    init(type: String, object o: [String: Any]) {
        self.type = type
        subtype = o["subtype"] as? String
        sessionID = o["session_id"] as? String
        var kinds: [Kind] = []
        switch type {
        case "system" where subtype == "init":
            kinds.append(.initialized(sessionID: sessionID, model: o["model"] as? String))
        case "system" where subtype == "api_retry":
            kinds.append(.apiRetry(attempt: Self.int(o["attempt"]) ?? 0, error: o["error"] as? String))
        case "assistant":
            if let message = o["message"] as? [String: Any], let id = message["id"] as? String,
               let usage = (message["usage"] as? [String: Any]).flatMap(TokenUsage.init(json:)) {
                messageUsage = MessageUsage(messageID: String(id.prefix(200)), model: (message["model"] as? String).map { String($0.prefix(200)) }, usage: usage)
            }
            for block in Self.blocks(o) {
                switch block["type"] as? String {
                case "text": kinds.append(.assistantText(block["text"] as? String ?? ""))
                case "tool_use":
                    kinds.append(.toolUse(id: block["id"] as? String ?? "", name: block["name"] as? String ?? "?",
                                          input: JSONValue(any: block["input"])))
                default: break
                }
            }
        case "user":
            for block in Self.blocks(o) where block["type"] as? String == "tool_result" {
                kinds.append(.toolResult(toolUseID: block["tool_use_id"] as? String ?? "", isError: block["is_error"] as? Bool ?? false,
                                         content: Self.text(of: block["content"])))
            }
        case "result":
            let usage = o["usage"] as? [String: Any]
            // Counts come from the agent: clamped, never trapping (`Int.max` plus cache tokens).
            var input: Int?
            if let base = SaturatingNumber.count(usage?["input_tokens"]) {
                input = SaturatingNumber.add(SaturatingNumber.add(base, SaturatingNumber.count(usage?["cache_creation_input_tokens"]) ?? 0),
                                             SaturatingNumber.count(usage?["cache_read_input_tokens"]) ?? 0)
            }
            kinds.append(.result(AgentResult(
                subtype: subtype ?? "", isError: o["is_error"] as? Bool ?? false, result: o["result"] as? String,
                numTurns: SaturatingNumber.count(o["num_turns"]), totalCostUSD: SaturatingNumber.amount(o["total_cost_usd"]),
                inputTokens: input, outputTokens: SaturatingNumber.count(usage?["output_tokens"]),
                sessionID: sessionID, errors: (o["errors"] as? [Any])?.compactMap { $0 as? String } ?? [],
                terminalReason: o["terminal_reason"] as? String, apiErrorStatus: Self.int(o["api_error_status"]))))
        default: break
        }
        if kinds.isEmpty { kinds.append(.other) }
        self.kinds = kinds
    }

    /// `message.content` as a list of blocks (a plain-string content has none).
    static func blocks(_ o: [String: Any]) -> [[String: Any]] {
        ((o["message"] as? [String: Any])?["content"] as? [Any])?.compactMap { $0 as? [String: Any] } ?? []
    }

    static func int(_ value: Any?) -> Int? {
        SaturatingNumber.int(value)
    }

    /// A tool result's content: a string, or the text of its text blocks.
    static func text(of content: Any?) -> String {
        if let s = content as? String { return s }
        if let items = content as? [Any] {
            return items.compactMap { ($0 as? [String: Any])?["text"] as? String }.joined(separator: "\n")
        }
        return ""
    }
}

/// The `result` line: how the agent's run ended.
public struct AgentResult: Sendable, Hashable {
    /// `success`, `error_max_turns`, `error_during_execution`, …
    public var subtype: String
    /// True when the run failed, even if ``subtype`` is `success` (API errors).
    public var isError: Bool
    public var result: String?
    public var numTurns: Int?
    public var totalCostUSD: Double?
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var sessionID: String?
    public var errors: [String]
    public var terminalReason: String?
    public var apiErrorStatus: Int?

    /// Whether the run succeeded: `subtype` success and no error flag.
    public var succeeded: Bool { subtype == "success" && !isError }

    /// A one-line reason when the run failed.
    public var failureReason: String {
        if subtype == "error_max_turns" {
            return errors.first ?? "agent reached the maximum number of turns"
        }
        if let first = errors.first { return first }
        if let result, !result.isEmpty { return result }
        return "agent ended with \(subtype)\(terminalReason.map { " (\($0))" } ?? "")"
    }
}

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

    /// Parses one stream-json line. Returns `nil` when the line is not a JSON object.
    public static func parse(_ line: Data) -> AgentEvent? {
        guard let raw = try? JSONDecoder().decode(RawLine.self, from: line) else { return nil }
        return AgentEvent(raw)
    }

    init(_ raw: RawLine) {
        type = raw.type
        subtype = raw.subtype
        sessionID = raw.session_id
        var kinds: [Kind] = []
        switch raw.type {
        case "system" where raw.subtype == "init":
            kinds.append(.initialized(sessionID: raw.session_id, model: raw.model))
        case "system" where raw.subtype == "api_retry":
            kinds.append(.apiRetry(attempt: raw.attempt ?? 0, error: raw.error?.stringValue))
        case "assistant":
            for block in raw.message?.content ?? [] {
                switch block.type {
                case "text": kinds.append(.assistantText(block.text ?? ""))
                case "tool_use": kinds.append(.toolUse(id: block.id ?? "", name: block.name ?? "?", input: block.input ?? .null))
                default: break
                }
            }
        case "user":
            for block in raw.message?.content ?? [] where block.type == "tool_result" {
                kinds.append(.toolResult(toolUseID: block.tool_use_id ?? "", isError: block.is_error ?? false, content: block.contentText))
            }
        case "result":
            kinds.append(.result(AgentResult(
                subtype: raw.subtype ?? "", isError: raw.is_error ?? false, result: raw.result,
                numTurns: raw.num_turns, totalCostUSD: raw.total_cost_usd,
                inputTokens: raw.usage?.totalInput, outputTokens: raw.usage?.output_tokens,
                sessionID: raw.session_id, errors: raw.errors ?? [], terminalReason: raw.terminal_reason,
                apiErrorStatus: raw.api_error_status)))
        default: break
        }
        if kinds.isEmpty { kinds.append(.other) }
        self.kinds = kinds
    }

    struct RawLine: Decodable {
        var type: String
        var subtype: String?
        var session_id: String?
        var model: String?
        var attempt: Int?
        var error: JSONValue?
        var message: Message?
        var is_error: Bool?
        var result: String?
        var num_turns: Int?
        var total_cost_usd: Double?
        var usage: Usage?
        var errors: [String]?
        var terminal_reason: String?
        var api_error_status: Int?
    }

    struct Message: Decodable {
        var content: [Block]?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // `content` is a list of blocks, or (for plain user prompts) a string.
            content = try? container.decodeIfPresent([Block].self, forKey: .content)
        }
        enum CodingKeys: String, CodingKey { case content }
    }

    struct Block: Decodable {
        var type: String
        var text: String?
        var id: String?
        var name: String?
        var input: JSONValue?
        var tool_use_id: String?
        var is_error: Bool?
        var content: JSONValue?

        var contentText: String {
            switch content {
            case .string(let s): return s
            case .array(let items): return items.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
            default: return ""
            }
        }
    }

    struct Usage: Decodable {
        var input_tokens: Int?
        var output_tokens: Int?
        var cache_creation_input_tokens: Int?
        var cache_read_input_tokens: Int?

        var totalInput: Int? {
            guard let input_tokens else { return nil }
            return input_tokens + (cache_creation_input_tokens ?? 0) + (cache_read_input_tokens ?? 0)
        }
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

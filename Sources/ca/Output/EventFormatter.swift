import AgentCore
import Foundation

/// Turns events into the human lines shown by `ca task create` and `ca task logs`.
struct EventFormatter {
    let console: Console

    /// Lines for an agent event (assistant text, one line per tool call, tool errors).
    func lines(for event: AgentEvent) -> [String] {
        var lines: [String] = []
        for kind in event.kinds {
            switch kind {
            case .initialized(let session, let model):
                lines.append(console.style(console.safe("▸ agent session \(session ?? "?")\(model.map { " · \($0)" } ?? "")"), "2"))
            case .assistantText(let text):
                let trimmed = console.safe(text.trimmingCharacters(in: .whitespacesAndNewlines))
                if !trimmed.isEmpty { lines.append(contentsOf: trimmed.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }) }
            case .toolUse(_, let name, let input):
                let summary = Self.summary(of: input, tool: name).map { " " + console.safe($0) } ?? ""
                lines.append("  " + console.style(console.safe("⚙ \(Self.clip(name, 80))"), "36") + summary)
            case .toolResult(_, let isError, let content) where isError:
                let first = content.split(separator: "\n").first.map(String.init) ?? ""
                lines.append("    " + console.style(console.safe("✗ \(Self.clip(first, 160))"), "31"))
            case .apiRetry(let attempt, let error):
                lines.append(console.style(console.safe("  … API retry \(attempt)\(error.map { " (\(Self.clip($0, 160)))" } ?? "")"), "33"))
            default:
                break
            }
        }
        return lines
    }

    /// A line for one of ca's own steps.
    func line(step message: String) -> String {
        console.style(console.safe("▸ \(message)"), "2")
    }

    /// Lines for a stored event (`ca task logs`).
    func lines(for record: EventRecord) -> [String] {
        if record.type == "ca" {
            let message = (try? JSONDecoder().decode([String: String].self, from: Data(record.payload.utf8)))?["message"] ?? record.payload
            return [line(step: message)]
        }
        if record.type == "raw" {
            let text = (try? JSONDecoder().decode([String: String].self, from: Data(record.payload.utf8)))?["text"] ?? record.payload
            return [console.style(console.safe("  \(text)"), "2")]
        }
        guard let event = AgentEvent.parse(Data(record.payload.utf8)) else { return [] }
        if case .result(let result)? = event.kinds.first {
            let status = result.succeeded ? console.style("✓ result", "32") : console.style("✗ result (\(result.subtype))", "31")
            var line = status
            if let turns = result.numTurns { line += " · \(turns) turns" }
            if let cost = result.totalCostUSD { line += String(format: " · $%.4f", cost) }
            var lines = [line]
            if let text = result.result, !text.isEmpty { lines.append(contentsOf: console.safe(text).split(separator: "\n").map { "  " + $0 }) }
            return lines
        }
        return lines(for: event)
    }

    /// A short summary of a tool call's input: the command, or the file it touches.
    static func summary(of input: JSONValue, tool: String) -> String? {
        if let command = input["command"]?.stringValue { return clip(command.replacingOccurrences(of: "\n", with: " ⏎ "), 120) }
        for key in ["file_path", "path", "notebook_path", "pattern", "url", "query", "description", "prompt"] {
            if var value = input[key]?.stringValue {
                let prefix = AgentInvocation.workspace + "/"
                if value.hasPrefix(prefix) { value.removeFirst(prefix.count) }
                return clip(value, 120)
            }
        }
        return nil
    }

    static func clip(_ s: String, _ n: Int) -> String {
        s.count > n ? String(s.prefix(n - 1)) + "…" : s
    }
}

import Foundation

/// The words ca writes on GitHub for `--open-pr`: the commit message, and the pull request's
/// title and body (prompt, the agent's result, cost, turns, task id).
enum PullRequestText {
    /// GitHub's limit for a pull request body, in characters.
    static let maximumBodyCharacters = 65_000

    /// The prompt's first line, at most 72 characters, prefixed by `ca:`.
    static func title(prompt: String) -> String {
        let firstLine = prompt.split(whereSeparator: \.isNewline).first.map(String.init) ?? prompt
        let cleaned = UntrustedText.clean(firstLine, limit: 400).trimmingCharacters(in: .whitespaces)
        let cut = cleaned.count > 72 ? String(cleaned.prefix(71)) + "…" : cleaned
        return "ca: " + (cut.isEmpty ? "changes" : cut)
    }

    static func commitMessage(task: TaskRecord) -> String {
        let title = title(prompt: task.prompt)
        let prompt = UntrustedText.clean(task.prompt, limit: 4_000)
        return "\(title)\n\n\(prompt)\n\n\(PullRequestPublisher.trailer)\(task.id)\n"
    }

    /// The body: the prompt, the agent's final message, and the task's figures. For a resumed
    /// task, `earlier` holds the tasks of its chain before it, oldest first: the first prompt
    /// leads, and every later one is listed as a follow-up, so the pull request tells the whole story.
    static func body(task: TaskRecord, result: String?, earlier: [(id: String, prompt: String)] = []) -> String {
        let first = earlier.first?.prompt ?? task.prompt
        var text = "### Prompt\n\n" + quoted(UntrustedText.clean(first, limit: 8_000))
        if !earlier.isEmpty {
            text += "\n\n### Follow-ups\n"
            for (id, prompt) in earlier.dropFirst().suffix(30) + [(id: task.id, prompt: task.prompt)] {
                let line = prompt.split(whereSeparator: \.isNewline).first.map(String.init) ?? prompt
                text += "\n- `\(id)`: " + UntrustedText.clean(line, limit: 300)
            }
        }
        if let result, !result.isEmpty {
            text += "\n\n### Result\n\n" + UntrustedText.clean(result, limit: 40_000)
        }
        var figures = ["task `\(task.id)`"]
        if let parent = task.parentID { figures.append("resumes `\(parent)`") }
        if let turns = task.numTurns { figures.append("\(turns) turn\(turns == 1 ? "" : "s")") }
        if let cost = task.costUSD { figures.append(String(format: "$%.4f", cost)) }
        text += "\n\n---\nOpened by ca · " + figures.joined(separator: " · ") + "\n"
        if text.count > maximumBodyCharacters { text = String(text.prefix(maximumBodyCharacters - 20)) + "\n\n[… cut]" }
        return text
    }

    private static func quoted(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n")
    }
}

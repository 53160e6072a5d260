import Foundation
import GitHubClient

/// The GitHub issues and pull requests a prompt links to, fetched and added to the agent's
/// prompt as untrusted context ("Fix https://github.com/o/r/issues/123").
struct IssueContext {
    let access: GitHubAccess

    /// Most links followed per prompt, comments per issue, and bytes per body.
    static let maximumLinks = 3
    static let maximumComments = 30
    static let maximumBodyBytes = 8_000
    /// Smallest room worth filling with context.
    static let minimumBudget = 2_000

    /// The context for `prompt`, at most `budget` bytes, and a note for each link that could not
    /// be fetched (the task goes on without it). `nil` text when the prompt links to nothing.
    func build(for prompt: String, budget: Int) async -> (text: String?, notes: [String]) {
        let references = GitHubReference.find(in: prompt, configuration: access.configuration, limit: Self.maximumLinks)
        guard !references.isEmpty else { return (nil, []) }
        var sections: [String] = []
        var notes: [String] = []
        for reference in references {
            do {
                sections.append(try await section(for: reference))
                notes.append("fetched \(reference.repository)#\(reference.number) from GitHub")
            } catch {
                notes.append("could not fetch \(reference.repository)#\(reference.number): \(error)")
            }
        }
        guard !sections.isEmpty else { return (nil, notes) }
        let body = UntrustedText.clean(sections.joined(separator: "\n\n"), limit: max(Self.minimumBudget / 2, budget - 400))
        return (UntrustedText.fenced(body), notes)
    }

    private func section(for reference: GitHubReference) async throws(TaskError) -> String {
        let issue = try await access.api.call { () async throws(GitHubError) in try await access.api.issue(reference.repository, number: reference.number) }
        let comments = try await access.api.call { () async throws(GitHubError) in
            try await access.api.issueComments(reference.repository, number: reference.number, limit: Self.maximumComments)
        }
        let kind = issue.isPullRequest ? "pull request" : "issue"
        var text = "### \(reference.repository)#\(issue.number) (\(kind), \(issue.state)) by @\(issue.userLogin): \(UntrustedText.clean(issue.title, limit: 300))\n"
        text += UntrustedText.clean(issue.body ?? "(no description)", limit: Self.maximumBodyBytes)
        for comment in comments {
            text += "\n\n#### Comment by @\(comment.userLogin)\n" + UntrustedText.clean(comment.body ?? "", limit: Self.maximumBodyBytes)
        }
        return text
    }
}

import Foundation
import GitHubClient

/// `ca pr review`: what the agent is told about the pull request before it runs, and the one
/// review made of what it left afterwards.
///
/// The agent writes its review as JSON to ``reviewPath(layout:)`` (format in the prompt). Every
/// inline comment is checked against the pull request's diff hunks (``DiffCommentMap``); one
/// that does not map to a line of the diff moves into the review's body with its location, so
/// GitHub never rejects the whole review. Posting makes exactly one `COMMENT` review, pinned to
/// the head commit that was reviewed.
struct PullRequestReviewer {
    let access: GitHubAccess
    let repository: GitHubRepository
    let number: Int

    init(access: GitHubAccess, options: GitHubTaskOptions.Review) throws(TaskError) {
        guard let repository = GitHubRepository(shorthand: options.repository) else {
            throw TaskError.invalidArgument("'\(options.repository)' is not an OWNER/NAME repository")
        }
        self.access = access
        self.repository = repository
        number = options.number
    }

    /// What GitHub says about the pull request.
    struct Context: Sendable {
        var pullRequest: GitHubPullRequest
        var files: [GitHubPullRequestFile]
        var comments: [GitHubReviewComment]
        var reviews: [GitHubReview]
    }

    /// Largest review file read from the sandbox.
    static let maximumReviewFileSize = 1 << 20
    /// Most comments taken from the agent's review.
    static let maximumDraftComments = 200

    /// Where the agent writes its review: outside the repository, so it is not part of the patch.
    static func reviewPath(layout: SandboxLayout) -> String { layout.home + "/review.json" }

    /// Marks a review as this task's (so a retry finds it instead of posting twice).
    static func marker(taskID: String) -> String { "<!-- ca-task: \(taskID) -->" }

    func load() async throws(TaskError) -> Context {
        let api = access.api
        let (repository, number) = (self.repository, self.number)
        let pullRequest = try await api.call { () async throws(GitHubError) in try await api.pullRequest(repository, number: number) }
        guard PullRequestPublisher.isObjectID(pullRequest.head.sha) else {
            throw TaskError.github(.unavailable, "GitHub gave no valid head commit for pull request #\(number) of \(repository)")
        }
        let files = try await api.call { () async throws(GitHubError) in try await api.pullRequestFiles(repository, number: number) }
        let comments = try await api.call { () async throws(GitHubError) in try await api.reviewComments(repository, number: number) }
        let reviews = try await api.call { () async throws(GitHubError) in try await api.reviews(repository, number: number) }
        return Context(pullRequest: pullRequest, files: files, comments: comments, reviews: reviews)
    }

    /// The agent's prompt: the task, the pull request (untrusted text, fenced), earlier reviews,
    /// the review format, and the user's own instructions.
    func prompt(_ context: Context, instructions: String, reviewPath: String, budget: Int) -> String {
        let pr = context.pullRequest
        var facts = "Pull request #\(number) of \(repository) by @\(pr.userLogin): \(UntrustedText.clean(pr.title, limit: 300))\n"
        facts += "Base branch: \(UntrustedText.clean(pr.base.ref, limit: 255)) · head commit: \(pr.head.sha)\n\n"
        facts += "#### Description\n" + UntrustedText.clean(pr.body ?? "(none)", limit: 8_000) + "\n\n#### Changed files\n"
        for file in context.files.prefix(300) {
            facts += "- \(UntrustedText.clean(file.filename, limit: 500)) (\(file.status), +\(file.additions) −\(file.deletions))\n"
        }
        if context.files.count > 300 { facts += "- … and \(context.files.count - 300) more\n" }
        let earlier = context.comments.prefix(100)
        let earlierReviews = context.reviews.filter { !($0.body ?? "").isEmpty }.suffix(20)
        if !earlier.isEmpty || !earlierReviews.isEmpty {
            facts += "\n#### Earlier reviews (do not repeat what they already say)\n"
            for review in earlierReviews {
                facts += "- review by @\(review.userLogin ?? "unknown"): \(UntrustedText.clean(review.body ?? "", limit: 1_500))\n"
            }
            for comment in earlier {
                let location = "\(UntrustedText.clean(comment.path, limit: 500)):\(comment.line.map(String.init) ?? "?")"
                facts += "- \(location) by @\(comment.userLogin): \(UntrustedText.clean(comment.body, limit: 1_000))\n"
            }
        }
        let base = UntrustedText.clean(pr.base.ref, limit: 255)
        var prompt = """
        Review pull request #\(number) of \(repository). The repository in your working directory is checked out at the \
        pull request's head commit \(pr.head.sha); its base branch is `origin/\(base)`, so `git diff origin/\(base)...HEAD` \
        shows the change under review. Read the change and the code around it. Do not modify any file.

        When you are done, write your review as JSON to \(reviewPath) in exactly this form:
        {"summary": "your overall assessment (Markdown)",
         "comments": [{"path": "path/in/repo", "line": 42, "side": "RIGHT", "body": "comment (Markdown)"},
                      {"path": "path/in/repo", "start_line": 40, "line": 42, "side": "RIGHT", "body": "a comment on lines 40-42"}]}
        `line` (and the optional `start_line`) are line numbers of the new version of the file for side RIGHT (added or \
        unchanged lines), or of the old version for side LEFT (deleted lines); comment only on lines that are part of the \
        diff. Leave "comments" empty when you have nothing to say about specific lines. Finish with a one-paragraph summary.
        """
        let trimmed = instructions.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { prompt += "\n\nAdditional instructions from the user who asked for the review:\n\(trimmed)" }
        let room = max(2_000, budget - prompt.utf8.count - 400)
        return prompt + "\n\n" + UntrustedText.fenced(UntrustedText.clean(facts, limit: room))
    }

    /// The agent's review file (untrusted): a summary and comments, each field checked and bounded.
    /// `nil` when there is no usable file; notes say what was dropped.
    static func parseDraft(_ data: Data?) -> (summary: String?, comments: [GitHubReviewDraftComment], notes: [String])? {
        guard let data, !data.isEmpty,
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        var notes: [String] = []
        let summary = (object["summary"] as? String).map { UntrustedText.clean($0, limit: 60_000) }
        var comments: [GitHubReviewDraftComment] = []
        for (index, element) in ((object["comments"] as? [Any]) ?? []).enumerated() {
            guard comments.count < maximumDraftComments else {
                notes.append("more than \(maximumDraftComments) comments: the rest were dropped")
                break
            }
            guard let entry = element as? [String: Any], let path = entry["path"] as? String, !path.isEmpty, path.utf8.count <= 4_096,
                  let line = boundedInt(entry["line"]), let body = entry["body"] as? String,
                  !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                notes.append("comment \(index + 1) has no valid path, line or body: dropped")
                continue
            }
            let side = (entry["side"] as? String).flatMap { DiffSide(rawValue: $0.uppercased()) } ?? .right
            var start = boundedInt(entry["start_line"])
            if start == line { start = nil }
            comments.append(GitHubReviewDraftComment(path: path, line: line, startLine: start, side: side,
                                                     body: UntrustedText.clean(body, limit: 16_000)))
        }
        return (summary, comments, notes)
    }

    /// A positive line number no larger than 10 million, from a JSON number.
    private static func boundedInt(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.isFinite, double >= 1, double <= 10_000_000, double == double.rounded() else { return nil }
        return Int(double)
    }

    /// Plans the review (inline comments that map to the diff, the rest in the body).
    static func plan(_ context: Context, summary: String, comments: [GitHubReviewDraftComment], taskID: String) -> ReviewPlan {
        ReviewPlan.plan(summary: summary + "\n\n" + marker(taskID: taskID), comments: comments, map: DiffCommentMap(files: context.files))
    }

    /// Posts the plan as one `COMMENT` review on the reviewed head, unless this task already
    /// posted one (a retry). Returns the review's URL.
    func post(_ plan: ReviewPlan, context: Context, taskID: String) async throws(TaskError) -> String {
        let api = access.api
        let (repository, number) = (self.repository, self.number)
        let marker = Self.marker(taskID: taskID)
        let earlier = try await api.call { () async throws(GitHubError) in try await api.reviews(repository, number: number) }
        if let mine = earlier.first(where: { ($0.body ?? "").contains(marker) }) {
            return mine.htmlURL ?? context.pullRequest.htmlURL
        }
        do {
            let review = try await api.createReview(repository, number: number, commitID: context.pullRequest.head.sha, body: plan.body, comments: plan.comments)
            return review.htmlURL ?? context.pullRequest.htmlURL
        } catch .validationFailed(let message, _) where !plan.comments.isEmpty {
            // GitHub still refused a comment (the pull request moved, say): all of them go in the body.
            let folded = ReviewPlan.plan(summary: plan.body, comments: plan.comments, map: DiffCommentMap(files: []))
            let review = try await api.call { () async throws(GitHubError) in
                try await api.createReview(repository, number: number, commitID: context.pullRequest.head.sha, body: folded.body, comments: [])
            }
            _ = message
            return review.htmlURL ?? context.pullRequest.htmlURL
        } catch {
            throw GitHubAccess.taskError(error)
        }
    }

    /// The review as text: its body, then each inline comment with its location.
    static func render(_ plan: ReviewPlan, taskID: String) -> String {
        var text = plan.body.replacingOccurrences(of: marker(taskID: taskID), with: "").trimmingCharacters(in: .whitespacesAndNewlines)
        if !plan.comments.isEmpty {
            text += "\n\nInline comments:"
            for comment in plan.comments {
                let lines = comment.startLine.map { "\($0)-\(comment.line)" } ?? "\(comment.line)"
                text += "\n- \(comment.path):\(lines) (\(comment.side.rawValue)): \(comment.body)"
            }
        }
        return text
    }
}

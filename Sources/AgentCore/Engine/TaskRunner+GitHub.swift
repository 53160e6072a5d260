import Foundation
import GitHubClient
import SandboxClient

/// The GitHub steps of a run: the context fetched for the agent's prompt before it starts, and
/// after a successful run the review (``PullRequestReviewer``) or the pull request
/// (``PullRequestPublisher``).
extension TaskRunner {
    /// Largest prompt handed to the agent, in bytes (one argv string may hold 128 KiB on Linux).
    static let maximumAgentPromptBytes = 120_000

    /// The GitHub access a task needs, as an error when it has none.
    private func requireGitHub() throws(TaskError) -> GitHubAccess {
        guard let github = configuration.github else {
            throw TaskError.github(.access, "this task needs GitHub, which is not configured here (GH_TOKEN, GITHUB_SERVER_URL)")
        }
        return github
    }

    /// The pull request a review task reviews: loaded once per run (again after a re-attach).
    func reviewContext(for task: TaskRecord, ingestor: EventIngestor) async throws(TaskError) -> PullRequestReviewer.Context? {
        guard let options = task.github?.review else { return nil }
        if let loaded = state.withLock({ $0.reviewContext }) { return loaded }
        let reviewer = try PullRequestReviewer(access: try requireGitHub(), options: options)
        await step(ingestor, "github", "reading pull request #\(options.number) of \(options.repository)")
        let context = try await reviewer.load()
        state.withLock { $0.reviewContext = context }
        await step(ingestor, "github", "pull request #\(options.number): \(context.files.count) changed file\(context.files.count == 1 ? "" : "s"), "
                   + "head \(context.pullRequest.head.sha.prefix(12)), \(context.comments.count) earlier review comment\(context.comments.count == 1 ? "" : "s")")
        return context
    }

    /// What the agent is asked: the prompt, plus the pull request to review, or the issues and
    /// pull requests the prompt links to (untrusted, fenced, bounded).
    func agentPrompt(for task: TaskRecord, layout: SandboxLayout, ingestor: EventIngestor) async throws(TaskError) -> String {
        let budget = Self.maximumAgentPromptBytes
        if let options = task.github?.review, let context = try await reviewContext(for: task, ingestor: ingestor) {
            let reviewer = try PullRequestReviewer(access: try requireGitHub(), options: options)
            return reviewer.prompt(context, instructions: task.prompt, reviewPath: PullRequestReviewer.reviewPath(layout: layout), budget: budget)
        }
        guard let github = configuration.github else { return task.prompt }
        let room = budget - task.prompt.utf8.count
        guard room >= IssueContext.minimumBudget else {
            if !GitHubReference.find(in: task.prompt, configuration: github.configuration, limit: 1).isEmpty {
                await step(ingestor, "github", "the prompt is too long to add the linked issues to it")
            }
            return task.prompt
        }
        let (context, notes) = await IssueContext(access: github).build(for: task.prompt, budget: room)
        for note in notes { await step(ingestor, "github", redactor.redact(note)) }
        return context.map { task.prompt + "\n\n" + $0 } ?? task.prompt
    }

    /// After a successful run: the review, or the pull request, when the task asked for one.
    /// A failure here fails the task; the saved changes stay.
    func publishToGitHub(_ task: TaskRecord, sandbox: any Sandbox, result: AgentResult, ingestor: EventIngestor) async -> Outcome {
        do throws(TaskError) {
            if let options = task.github?.review {
                let review = try await finishReview(task, options: options, sandbox: sandbox, result: result, ingestor: ingestor)
                var reviewed = result
                reviewed.result = review
                return Outcome(status: .succeeded, result: reviewed)
            }
            if let options = task.github?.openPullRequest {
                try await openPullRequest(task, options: options, result: result, ingestor: ingestor)
            }
            return Outcome(status: .succeeded, result: result)
        } catch {
            let message = redactor.redact(error.description)
            await step(ingestor, "github", message)
            let what = task.github?.review != nil ? "the review" : "the pull request"
            return Outcome(status: .failed, error: "the agent succeeded and its changes are saved, but \(what) failed: \(message)", result: result)
        }
    }

    private func finishReview(_ task: TaskRecord, options: GitHubTaskOptions.Review, sandbox: any Sandbox, result: AgentResult,
                              ingestor: EventIngestor) async throws(TaskError) -> String {
        guard let context = try await reviewContext(for: task, ingestor: ingestor) else { return result.result ?? "" }
        let reviewer = try PullRequestReviewer(access: try requireGitHub(), options: options)
        let path = PullRequestReviewer.reviewPath(layout: SandboxLayout(home: sandbox.homeDirectory))
        let file = try? await sandbox.readFile(path, maximumSize: PullRequestReviewer.maximumReviewFileSize)
        let fallback = redactor.redact(result.result ?? "")
        var summary = fallback
        var comments: [GitHubReviewDraftComment] = []
        if let draft = PullRequestReviewer.parseDraft(file) {
            summary = draft.summary.map(redactor.redact) ?? fallback
            comments = draft.comments.map { c in
                GitHubReviewDraftComment(path: c.path, line: c.line, startLine: c.startLine, side: c.side, body: redactor.redact(c.body))
            }
            for note in draft.notes { await step(ingestor, "review", note) }
        } else {
            await step(ingestor, "review", "the agent left no review file: its final message is the review")
        }
        let plan = PullRequestReviewer.plan(context, summary: summary, comments: comments, taskID: task.id)
        await step(ingestor, "review", "\(plan.comments.count) inline comment\(plan.comments.count == 1 ? "" : "s")"
                   + (plan.moved.isEmpty ? "" : ", \(plan.moved.count) outside the diff moved into the body"))
        var reviewURL: String?
        if options.post {
            let url = try await reviewer.post(plan, context: context, taskID: task.id)
            reviewURL = url
            _ = try? await store.update(task.id, durable: true) { $0.reviewURL = url }
            await step(ingestor, "review", "posted \(url)")
        }
        let rendered = PullRequestReviewer.render(plan, taskID: task.id)
        let record = ReviewRecord(pullRequest: context.pullRequest.htmlURL, commitID: context.pullRequest.head.sha, body: plan.body,
                                  comments: plan.comments, moved: plan.moved.map { "\($0.comment.path):\($0.comment.line): \($0.reason)" },
                                  reviewURL: reviewURL)
        if let data = try? ReviewRecord.encoder.encode(record) {
            try? SafeFileWriter(root: configuration.paths.taskFolder(task.id)).write(data, to: "review.json")
        }
        return rendered
    }

    private func openPullRequest(_ task: TaskRecord, options: GitHubTaskOptions.OpenPullRequest, result: AgentResult,
                                 ingestor: EventIngestor) async throws(TaskError) {
        var current = (try? await store.task(id: task.id)) ?? task
        current.numTurns = result.numTurns
        current.costUSD = result.totalCostUSD
        let publisher = PullRequestPublisher(access: try requireGitHub(), paths: configuration.paths)
        await step(ingestor, "github", current.pullRequestNumber.map { "updating pull request #\($0)" } ?? "opening a pull request")
        // The chain before this task (a resume), oldest first, for the pull request's body.
        var earlier: [(id: String, prompt: String)] = []
        var parentID = current.parentID
        while let id = parentID, earlier.count < 100, let parent = try? await store.task(id: id) {
            earlier.insert((id: parent.id, prompt: parent.prompt), at: 0)
            parentID = parent.parentID
        }
        switch try await publisher.publish(current, options: options, result: result.result.map(redactor.redact), earlier: earlier) {
        case .noChanges:
            await step(ingestor, "github", "no changes: no pull request")
        case .opened(let url, let number, let branch), .updated(let url, let number, let branch):
            _ = try? await store.update(task.id, durable: true) { t in
                t.pullRequestURL = url
                t.pullRequestNumber = number
                t.pullRequestBranch = branch
            }
            await step(ingestor, "github", "\(current.pullRequestNumber == nil ? "opened" : "updated") pull request #\(number) (\(branch)): \(url)")
        }
    }
}

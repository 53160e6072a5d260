import AgentCore
import ArgumentParser

/// `ca pr review N --repo OWNER/NAME [--post]`
struct PullRequestReview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Review a GitHub pull request with an agent.",
        discussion: """
        The agent works in a sandbox on the pull request's head (refs/pull/N/head) with its base \
        branch at hand, and is given the pull request's title, description, changed files and \
        earlier review comments. Its review is printed and stored with the task; with --post it \
        is posted as one review (event COMMENT) with inline comments. A comment on a line outside \
        the diff is moved into the review's body with its location, so GitHub never rejects the \
        review. Needs GH_TOKEN or GITHUB_TOKEN for private repositories and for --post.
        """
    )

    @Argument(help: "Pull request number.")
    var number: Int

    @Option(help: ArgumentHelp("Repository on GitHub ($GITHUB_SERVER_URL).", valueName: "owner/name"))
    var repo: String

    @Flag(help: "Post the review on the pull request.")
    var post = false

    @Option(help: "Extra instructions for the reviewer.")
    var instructions: String?

    @Option(help: "Sandbox backend: local, novita or e2b (default: $CA_SANDBOX, else novita when NOVITA_API_KEY is set, else local).")
    var sandbox: SandboxKind?

    @OptionGroup var run: TaskRunOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func validate() throws {
        guard number >= 1, number <= Int(Int32.max) else { throw ValidationError("the pull request number must be a positive integer") }
        if run.keepAlive != nil { throw ValidationError("--keep-alive applies to ca task create and ca task resume, not to reviews") }
    }

    func run() async throws {
        try await TaskContext.with(output, server) { context in
            let request = PullRequestReviewRequest(
                repository: repo, number: number, post: post, instructions: instructions, backend: sandbox, model: self.run.model,
                timeoutSeconds: try self.run.timeoutSeconds() ?? 3600, maxTurns: self.run.maxTurns, network: self.run.network,
                allowHosts: self.run.allowHosts, readOnlyPaths: self.run.readOnlyPaths, notifyURL: self.run.notify,
                maxCostUSD: try self.run.maxCostUSD())
            let task = try await context.attempt { () throws(TaskError) in try await context.tasks.review(request) }
            try await TaskExecution(context: context).start(task, detach: self.run.detach)
        }
    }
}

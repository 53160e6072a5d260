import AgentCore
import ArgumentParser
import Foundation

/// `ca task create PROMPT --repo URL`
struct TaskCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Run an agent on a prompt against a repository.",
        discussion: """
        Runs in the foreground, showing the agent's progress, and exits with the task's outcome \
        (0 succeeded, 1 failed, 2 cancelled, 3 timed out). Ctrl-C cancels the task. With --detach \
        the task runs in a background ca process and its id is printed at once.
        """
    )

    @Argument(help: "What the agent should do.")
    var prompt: String

    @Option(help: "Repository to work on: https or ssh URL, file:// URL, a local path, or OWNER/NAME on GitHub ($GITHUB_SERVER_URL).")
    var repo: String

    @Option(help: "Branch to check out.")
    var branch: String?

    @Option(help: "Sandbox backend: local, novita or e2b (default: $CA_SANDBOX, else novita when NOVITA_API_KEY is set, else local).")
    var sandbox: SandboxKind?

    @Option(help: "Sandbox template for novita/e2b (default: $CA_TEMPLATE, else cloud-agent-v1).")
    var template: String?

    @OptionGroup var run: TaskRunOptions
    @OptionGroup var pullRequest: PullRequestOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await TaskContext.with(output, server) { context in
            var request = TaskRequest(
                prompt: prompt, repository: repo, branch: branch, backend: sandbox, template: template,
                timeoutSeconds: try self.run.timeoutSeconds() ?? 3600, maxTurns: self.run.maxTurns, model: self.run.model,
                network: self.run.network, allowHosts: self.run.allowHosts, readOnlyPaths: self.run.readOnlyPaths)
            if let options = pullRequest.options { request.github = GitHubTaskOptions(openPullRequest: options) }
            request.notifyURL = self.run.notify
            request.maxCostUSD = try self.run.maxCostUSD()
            request.attempts = self.run.attempts
            request.keepAliveSeconds = try self.run.keepAliveSeconds()
            let task = try await context.attempt { [request] () throws(TaskError) in try await context.tasks.create(request) }
            try await TaskExecution(context: context).start(task, detach: self.run.detach)
        }
    }
}

import AgentCore
import ArgumentParser

/// `ca task resume ID PROMPT`
struct TaskResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue a finished task with a new prompt, keeping its conversation and changes.",
        discussion: """
        Creates a child task in a fresh sandbox: the same repository at the parent's base commit \
        with the parent's changes applied, and the agent's earlier conversation restored. When the \
        parent ran with --keep-alive and its window has not passed, the child continues in the \
        parent's paused sandbox instead (no clone, no patch). For a task run with --attempts, \
        --attempt K picks the attempt to continue.
        """
    )

    @Argument(help: "Id (or unique id prefix) of the task to continue.")
    var id: String

    @Argument(help: "What the agent should do next.")
    var prompt: String

    @Option(help: "Sandbox backend (default: the parent's).")
    var sandbox: SandboxKind?

    @OptionGroup var attempt: AttemptOptions
    @OptionGroup var run: TaskRunOptions
    @OptionGroup var pullRequest: PullRequestOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await TaskContext.with(output, server) { context in
            let timeout = try self.run.timeoutSeconds()
            let maxCost = try self.run.maxCostUSD()
            let resumed = try await attempt.resolve(id, in: context)
            let keepAlive = try self.run.keepAliveSeconds()
            let task = try await context.attempt { () throws(TaskError) in
                try await context.tasks.resume(resumed.id, TaskResumeRequest(
                    prompt: prompt, timeoutSeconds: timeout, maxTurns: self.run.maxTurns, model: self.run.model, backend: sandbox,
                    network: self.run.network, allowHosts: self.run.allowHosts, readOnlyPaths: self.run.readOnlyPaths,
                    openPullRequest: pullRequest.options, notifyURL: self.run.notify,
                    maxCostUSD: maxCost, attempts: self.run.attempts, keepAliveSeconds: keepAlive))
            }
            try await TaskExecution(context: context).start(task, detach: self.run.detach)
        }
    }
}

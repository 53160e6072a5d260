import AgentCore
import ArgumentParser

/// `ca task _run ID`: the background process behind `--detach` (not for direct use).
struct TaskRunDetached: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_run", abstract: "Run a queued task in this process (used by --detach).", shouldDisplay: false)

    @Argument var id: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let context = try await CommandContext.open(output)
        let task = try await context.attempt { () throws(TaskError) in try await context.service.resolve(id) }
        if task.isAttemptParent {
            let (final, runners) = try await context.attempt { () throws(TaskError) in
                try await AttemptsExecution(service: context.service, console: nil).run(task)
            }
            await AttemptsExecution.notify(runners)
            throw CAExitCode.forStatus(final.status).exitCode
        }
        let runner = try await context.attempt { () throws(TaskError) in try context.service.makeRunner(for: task) }
        let final = await SignalTrap.whileRunning(runner) { await runner.run(taskID: task.id) }
        await runner.notify(final)
        throw CAExitCode.forStatus(final.status).exitCode
    }
}

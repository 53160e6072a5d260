import AgentCore
import ArgumentParser

/// `ca task get ID`
struct TaskGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one task.")

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @OptionGroup var attempt: AttemptOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await TaskContext.with(output, server, access: .readOnly) { context in
            let task = try await attempt.resolve(id, in: context, requireOne: false)
            let attempts = task.isAttemptParent ? try await context.attempt { () throws(TaskError) in try await context.tasks.attempts(task.id) } : []
            if output.json {
                context.console.printJSON(JSONOutput.TaskBody(task, paths: context.paths, attempts: attempts))
            } else {
                let printer = TaskPrinter(console: context.console, paths: context.paths)
                printer.detail(task)
                if task.isAttemptParent { printer.attempts(attempts) }
            }
        }
    }
}

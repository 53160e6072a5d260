import AgentCore
import ArgumentParser

/// `ca task get ID`
struct TaskGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one task.")

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await TaskContext.with(output, server, access: .readOnly) { context in
            let task = try await context.attempt { () throws(TaskError) in try await context.tasks.resolve(id) }
            if output.json {
                context.console.printJSON(JSONOutput.TaskBody(task, paths: context.paths))
            } else {
                TaskPrinter(console: context.console, paths: context.paths).detail(task)
            }
        }
    }
}

import AgentCore
import ArgumentParser

/// `ca task get ID`
struct TaskGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one task.")

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let context = try await CommandContext.open(output, access: .readOnly)
        let task = try await context.attempt { () throws(TaskError) in try await context.service.resolve(id) }
        if output.json {
            context.console.printJSON(JSONOutput.TaskBody(task, paths: context.service.paths))
        } else {
            TaskPrinter(console: context.console, paths: context.service.paths).detail(task)
        }
    }
}

import AgentCore
import ArgumentParser

/// `ca task list`
struct TaskList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tasks, newest first.")

    @Option(help: "Only tasks with this status: \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
    var status: String?

    @Option(help: "How many tasks to show.")
    var limit: Int = 20

    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func validate() throws {
        if let status, TaskStatus(rawValue: status) == nil {
            throw ValidationError("invalid --status '\(status)'; use one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if limit <= 0 { throw ValidationError("--limit must be a positive number") }
    }

    func run() async throws {
        try await TaskContext.with(output, server, access: .readOnly) { context in
            let tasks = try await context.attempt { () throws(TaskError) in
                try await context.tasks.list(status: status.flatMap(TaskStatus.init(rawValue:)), limit: limit)
            }
            if output.json {
                context.console.printJSON(tasks.map { JSONOutput.TaskBody($0, paths: context.paths) })
            } else {
                TaskPrinter(console: context.console, paths: context.paths).table(tasks)
            }
        }
    }
}

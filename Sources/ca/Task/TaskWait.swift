import AgentCore
import ArgumentParser

/// `ca task wait ID`
struct TaskWait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait", abstract: "Wait for a task to end; the exit code reflects its outcome.",
        discussion: "Exits 0 when the task succeeded, 1 failed, 2 cancelled, 3 timed out, 4 when --timeout passed first.")

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @Option(help: "Give up after this long (90s, 15m, 2h).")
    var timeout: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func validate() throws {
        if let timeout, DurationFormat.parse(timeout) == nil {
            throw ValidationError("invalid --timeout '\(timeout)'; use a duration such as 90s, 15m or 2h, at most 365d")
        }
    }

    func run() async throws {
        try await TaskContext.with(output, server, access: .readOnly) { context in
            let seconds = timeout.flatMap(DurationFormat.parse).map(Double.init)
            let task = try await context.attempt { () throws(TaskError) in try await context.tasks.wait(id, timeout: seconds) }
            if output.json {
                context.console.printJSON(JSONOutput.TaskBody(task, paths: context.paths))
            } else {
                let printer = TaskPrinter(console: context.console, paths: context.paths)
                let m = printer.metrics(task)
                context.console.out("\(task.id) \(printer.statusLabel(task.status))\(m.isEmpty ? "" : " · " + m)")
                if let error = task.error { context.console.out("  \(error)") }
            }
            throw CAExitCode.forStatus(task.status).exitCode
        }
    }
}

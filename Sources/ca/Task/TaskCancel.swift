import AgentCore
import ArgumentParser

/// `ca task cancel ID`
struct TaskCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Stop a queued or running task (its agent and sandbox are killed).")

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await TaskContext.with(output, server) { context in
            let requested = try await context.attempt { () throws(TaskError) in try await context.tasks.cancel(id) }
            var task = requested
            if !task.status.isTerminal {
                // The runner checks every second; give it time to stop the agent and the sandbox.
                task = try await context.attempt { () throws(TaskError) in try await context.tasks.wait(task.id, timeout: 30) }
            }
            if output.json {
                context.console.printJSON(JSONOutput.TaskBody(task, paths: context.paths))
            } else if task.status == .cancelled {
                context.console.out("\(task.id) cancelled")
            } else if task.status.isTerminal {
                context.console.out("\(task.id) already \(task.status)")
            } else {
                context.console.out("\(task.id) cancel requested; still \(task.status)")
            }
        }
    }
}

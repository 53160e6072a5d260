import AgentCore
import ArgumentParser

/// `ca task cancel ID`
struct TaskCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Stop a queued or running task (its agent and sandbox are killed).")

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let context = try await CommandContext.open(output)
        let requested = try await context.attempt { () throws(TaskError) in try await context.service.cancel(id) }
        var task = requested
        if !task.status.isTerminal {
            // The runner checks every second; give it time to stop the agent and the sandbox.
            task = try await context.attempt { () throws(TaskError) in try await context.service.wait(task.id, timeout: 30) }
        }
        if output.json {
            context.console.printJSON(JSONOutput.TaskBody(task, paths: context.service.paths))
        } else if task.status == .cancelled {
            context.console.out("\(task.id) cancelled")
        } else if task.status.isTerminal {
            context.console.out("\(task.id) already \(task.status)")
        } else {
            context.console.out("\(task.id) cancel requested; still \(task.status)")
        }
    }
}

import AgentCore
import ArgumentParser
import Foundation

/// `ca task diff ID`
struct TaskDiff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Print the patch of everything the agent changed.")

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @OptionGroup var attempt: AttemptOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await TaskContext.with(output, server, access: .readOnly) { context in
            let task = try await attempt.resolve(id, in: context)
            let patch = try await context.attempt { () throws(TaskError) in try await context.tasks.patch(task.id) }
            if output.json {
                context.console.printJSON(JSONOutput.DiffBody(id: task.id, patch: String(decoding: patch, as: UTF8.self)))
            } else if context.console.stdoutIsTTY {
                // On a terminal the patch is shown with its control characters escaped; piped, it
                // stays byte for byte what `git apply` needs.
                StandardStream.output.write(Data(TerminalText.escape(String(decoding: patch, as: UTF8.self)).utf8))
            } else {
                StandardStream.output.write(patch)
            }
        }
    }
}

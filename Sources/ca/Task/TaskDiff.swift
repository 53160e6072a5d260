import AgentCore
import ArgumentParser
import Foundation

/// `ca task diff ID`
struct TaskDiff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Print the patch of everything the agent changed.")

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let context = try await CommandContext.open(output, access: .readOnly)
        let task = try await context.attempt { () throws(TaskError) in try await context.service.resolve(id) }
        let url = context.service.paths.taskFolder(task.id).appendingPathComponent("patch.diff")
        guard let patch = try? Data(contentsOf: url) else {
            throw context.console.fail(TaskError.step("task \(task.id) has no saved patch (status \(task.status))"))
        }
        if output.json {
            context.console.printJSON(JSONOutput.DiffBody(id: task.id, patch: String(decoding: patch, as: UTF8.self)))
        } else if context.console.stdoutIsTTY {
            // On a terminal the patch is shown with its control characters escaped; piped, it
            // stays byte for byte what `git apply` needs.
            FileHandle.standardOutput.write(Data(TerminalText.escape(String(decoding: patch, as: UTF8.self)).utf8))
        } else {
            FileHandle.standardOutput.write(patch)
        }
    }
}

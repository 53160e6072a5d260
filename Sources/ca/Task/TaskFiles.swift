import AgentCore
import ArgumentParser

/// `ca task files ID`
struct TaskFiles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "files", abstract: "List the files saved for a task.")

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @OptionGroup var attempt: AttemptOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await TaskContext.with(output, server, access: .readOnly) { context in
            let task = try await attempt.resolve(id, in: context)
            let artifacts: [ArtifactRecord]
            if let remote = context.remote {
                // The files are fetched from the server into the same folder a local task uses.
                artifacts = try await context.attempt { () throws(TaskError) in try await remote.download(task, into: context.paths).artifacts }
            } else {
                artifacts = try await context.attempt { () throws(TaskError) in try await context.tasks.artifacts(task.id) }
            }
            let folder = context.paths.taskFolder(task.id).path
            if output.json {
                context.console.printJSON(JSONOutput.FilesBody(id: task.id, files_dir: folder, artifacts: artifacts.map {
                    JSONOutput.ArtifactBody(kind: $0.kind.rawValue, path: $0.path, size: $0.size, note: $0.note)
                }))
                return
            }
            context.console.out(folder)
            if artifacts.isEmpty { context.console.out("  (nothing saved)") }
            for a in artifacts {
                // Names and notes come from the agent's workspace: escaped, one line each.
                let name = context.console.safe(a.kind == ArtifactRecord.Kind.file ? "files/\(a.path)" : a.path).replacingOccurrences(of: "\n", with: "\\n")
                let note = a.note.map { "  (\(context.console.safe($0).replacingOccurrences(of: "\n", with: "\\n")))" } ?? ""
                context.console.out("  \(a.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(a.size).padding(toLength: 9, withPad: " ", startingAt: 0)) \(name)\(note)")
            }
        }
    }
}

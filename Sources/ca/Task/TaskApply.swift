import AgentCore
import ArgumentParser
import Foundation

/// `ca task apply ID [--check] [--3way]`
struct TaskApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a task's changes to the git checkout here.",
        discussion: """
        Applies the task's patch with git apply. Refuses, changing nothing, when the folder is not \
        a git checkout holding the task's base commit (another repository, or one that needs a \
        fetch), or when the changes conflict with local ones (--3way tries a three-way merge). \
        New, deleted and binary files are applied; symbolic links the task recorded are reported, \
        not created. With --3way, files that cannot be merged are left with conflict markers, as git \
        apply --3way leaves them. Exits 0 when applied (or, with --check, when it would apply), 1 when \
        refused or when conflicts are left.
        """
    )

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @Flag(help: "Only say whether the changes apply; change nothing.")
    var check = false

    @Flag(name: .customLong("3way"), help: "Fall back to a three-way merge where the changes do not apply cleanly.")
    var threeWay = false

    @Option(name: .customLong("directory"), help: ArgumentHelp("The git checkout (default: the current folder).", valueName: "path"))
    var directory: String?

    @OptionGroup var attempt: AttemptOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    struct Body: Encodable {
        var id: String
        var directory: String
        var applied: Bool
        var check: Bool
        var files: [String]
        var skipped_links: [String]
        var conflicts: [String]
    }

    func run() async throws {
        try await TaskContext.with(output, server, access: .readOnly) { context in
            let task = try await attempt.resolve(id, in: context)
            let patch = try await context.attempt { () throws(TaskError) in try await context.tasks.patch(task.id) }
            let links = try await context.attempt { () throws(TaskError) in try await context.tasks.artifacts(task.id) }
                .filter { $0.kind == .symlink }.map(\.path)
            let folder = directory ?? FileManager.default.currentDirectoryPath
            let outcome = try await context.attempt { () throws(TaskError) in
                try await PatchApplier().apply(patch, baseCommit: task.baseCommit, links: links, to: folder, check: check, threeWay: threeWay)
            }
            let console = context.console
            if output.json {
                console.printJSON(Body(id: task.id, directory: outcome.root, applied: outcome.applied, check: check, files: outcome.paths,
                                       skipped_links: outcome.skippedLinks, conflicts: outcome.conflicts))
                if !outcome.conflicts.isEmpty { throw CAExitCode.taskFailed.exitCode }
                return
            }
            if patch.isEmpty {
                console.out("task \(task.id) changed nothing: nothing to apply")
                return
            }
            let count = "\(outcome.paths.count) file\(outcome.paths.count == 1 ? "" : "s")"
            console.out(check ? "the changes of task \(task.id) apply to \(console.safe(outcome.root)) (\(count))"
                              : "applied the changes of task \(task.id) to \(console.safe(outcome.root)) (\(count))")
            // Names come from the agent's workspace: escaped, one line each.
            for path in outcome.paths { console.out("  " + console.safe(path).replacingOccurrences(of: "\n", with: "\\n")) }
            for link in outcome.skippedLinks {
                console.out("  not created (a symbolic link): " + console.safe(link).replacingOccurrences(of: "\n", with: "\\n"))
            }
            if !outcome.conflicts.isEmpty {
                console.notice("conflicts in \(outcome.conflicts.count) file\(outcome.conflicts.count == 1 ? "" : "s"), marked for you to resolve (git status): "
                              + outcome.conflicts.map { console.safe($0).replacingOccurrences(of: "\n", with: "\\n") }.joined(separator: ", "))
                throw CAExitCode.taskFailed.exitCode
            }
        }
    }
}

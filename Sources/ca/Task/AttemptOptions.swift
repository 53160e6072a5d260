import AgentCore
import ArgumentParser

/// `--attempt K`: which attempt of a best-of-N task (`--attempts N`) a command is about.
struct AttemptOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Of a task run with --attempts N: attempt K (1 to N).", valueName: "k"))
    var attempt: Int?

    func validate() throws {
        if let attempt, !TaskAttempts.allowed.contains(attempt) {
            throw ValidationError("--attempt must be from 1 to \(TaskAttempts.allowed.upperBound), not \(attempt)")
        }
    }

    /// The task `id` names, or with `--attempt K` its attempt K. A best-of-N parent without
    /// `--attempt` (for commands about one set of changes), or `--attempt` on another task,
    /// is a usage error listing what there is.
    func resolve(_ id: String, in context: TaskContext, requireOne: Bool = true) async throws -> TaskRecord {
        let task = try await context.attempt { () throws(TaskError) in try await context.tasks.resolve(id) }
        guard task.isAttemptParent else {
            if attempt != nil {
                throw context.console.fail(TaskError.invalidArgument("task \(task.id) was not run with --attempts: leave out --attempt"))
            }
            return task
        }
        let attempts = try await context.attempt { () throws(TaskError) in try await context.tasks.attempts(task.id) }
        let listing = attempts.map { "\($0.attempt): \($0.id) (\($0.status))" }.joined(separator: ", ")
        guard let attempt else {
            guard requireOne else { return task }
            throw context.console.fail(TaskError.invalidArgument(
                "task \(task.id) ran \(attempts.count) attempts; choose one with --attempt K (\(listing))"))
        }
        guard let chosen = attempts.first(where: { $0.attempt == attempt }) else {
            throw context.console.fail(TaskError.invalidArgument(
                "task \(task.id) has no attempt \(attempt); it ran \(attempts.count) (\(listing))"))
        }
        return try await context.attempt { () throws(TaskError) in try await context.tasks.resolve(chosen.id) }
    }
}

import AgentCore
import ArgumentParser

/// Options shared by `create` and `resume`.
struct TaskRunOptions: ParsableArguments {
    @Option(help: "Stop the task after this long: 90s, 15m, 2h (default 1h).")
    var timeout: String?

    @Option(help: "Stop the agent after this many turns.")
    var maxTurns: Int?

    @Option(help: "Model name or alias passed to Claude Code (sonnet, haiku, …).")
    var model: String?

    @Flag(help: "Print the task id and run it in a background ca process.")
    var detach = false

    func timeoutSeconds() throws -> Int? {
        guard let timeout else { return nil }
        guard let seconds = DurationFormat.parse(timeout) else {
            throw ValidationError("invalid --timeout '\(timeout)'; use a duration such as 90s, 15m or 2h, at most 365d")
        }
        return seconds
    }

    func validate() throws {
        _ = try timeoutSeconds()
        if let maxTurns, maxTurns <= 0 { throw ValidationError("--max-turns must be a positive number") }
    }
}

/// Why a task did not succeed, as a stable code for scripts (`failure_reason` in `--json`, the
/// API and webhooks). ``TaskRecord/error`` says the same for people.
public enum TaskFailureReason: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The running cost reached `--max-cost` (ca's meter, or Claude Code's own `--max-budget-usd`).
    case budgetExceeded = "budget_exceeded"
    /// The agent used up `--max-turns`.
    case maxTurns = "max_turns"
    /// `--timeout` passed.
    case deadline
    /// The agent printed nothing for `CA_IDLE_TIMEOUT`.
    case idle
    /// `ca task cancel`, Ctrl-C, or the parent of the task was cancelled.
    case cancelled
    /// The model API kept failing.
    case apiError = "api_error"
    /// The server running the task shut down or was lost.
    case serverShutdown = "server_shutdown"

    public var description: String { rawValue }
}

/// Why the runner stopped a task before the agent finished on its own.
public enum StopReason: Sendable, Hashable {
    /// `ca task cancel` from another process.
    case cancelled
    /// Ctrl-C on the foreground `ca` process.
    case interrupted
    /// The task's `--timeout` passed.
    case deadline(seconds: Int)
    /// The agent printed nothing for too long.
    case idle(seconds: Int)
    /// The server running the task shut down before it ended.
    case serverShutdown
    /// The running cost reached the task's `--max-cost` (dollars: the cap and what was spent).
    case budgetExceeded(cap: Double, spent: Double)

    var status: TaskStatus {
        switch self {
        case .cancelled, .interrupted: return .cancelled
        case .deadline, .idle: return .timedOut
        case .serverShutdown, .budgetExceeded: return .failed
        }
    }

    /// The stable code recorded with the task.
    var failureReason: TaskFailureReason {
        switch self {
        case .cancelled, .interrupted: return .cancelled
        case .deadline: return .deadline
        case .idle: return .idle
        case .serverShutdown: return .serverShutdown
        case .budgetExceeded: return .budgetExceeded
        }
    }

    var message: String {
        switch self {
        case .cancelled: return "cancelled by request"
        case .interrupted: return "interrupted (Ctrl-C)"
        case .deadline(let s): return "deadline of \(DurationFormat.describe(seconds: s)) exceeded"
        case .idle(let s): return "no agent output for \(DurationFormat.describe(seconds: s))"
        case .serverShutdown: return "the server shut down before the task ended"
        case .budgetExceeded(let cap, let spent):
            return "cost cap of \(CostFormat.dollars(cap)) reached (\(CostFormat.dollars(spent)) spent); the agent was stopped"
        }
    }
}

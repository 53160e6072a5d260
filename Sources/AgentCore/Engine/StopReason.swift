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

    var status: TaskStatus {
        switch self {
        case .cancelled, .interrupted: return .cancelled
        case .deadline, .idle: return .timedOut
        case .serverShutdown: return .failed
        }
    }

    var message: String {
        switch self {
        case .cancelled: return "cancelled by request"
        case .interrupted: return "interrupted (Ctrl-C)"
        case .deadline(let s): return "deadline of \(DurationFormat.describe(seconds: s)) exceeded"
        case .idle(let s): return "no agent output for \(DurationFormat.describe(seconds: s))"
        case .serverShutdown: return "the server shut down before the task ended"
        }
    }
}

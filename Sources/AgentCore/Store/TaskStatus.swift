/// Where a task is in its life.
public enum TaskStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case queued
    case running
    case succeeded
    case failed
    case cancelled
    case timedOut = "timed_out"

    /// Whether the task has ended and will not change again.
    public var isTerminal: Bool {
        switch self {
        case .queued, .running: return false
        case .succeeded, .failed, .cancelled, .timedOut: return true
        }
    }

    public var description: String { rawValue }
}

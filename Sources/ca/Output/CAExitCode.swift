import AgentCore
import ArgumentParser
import SandboxClient

/// ca's documented exit codes (see `ca --help`, the README and the man page).
enum CAExitCode: Int32 {
    case success = 0
    case taskFailed = 1
    case taskCancelled = 2
    case taskTimedOut = 3
    case waitGaveUp = 4
    case notFound = 10
    case setup = 11
    case usage = 64
    case internalError = 70

    /// The exit code for a task's final status.
    static func forStatus(_ status: TaskStatus) -> CAExitCode {
        switch status {
        case .succeeded: return .success
        case .failed: return .taskFailed
        case .cancelled: return .taskCancelled
        case .timedOut: return .taskTimedOut
        case .queued, .running: return .waitGaveUp
        }
    }

    /// The exit code for an error.
    static func forError(_ error: TaskError) -> CAExitCode {
        switch error {
        case .invalidArgument: return .usage
        case .store(.taskNotFound), .store(.ambiguousID): return .notFound
        case .repositoryUnreachable, .missingCredentials, .missingAgent: return .setup
        case .sandbox(.missingDependency), .sandbox(.configuration), .sandbox(.unauthorized): return .setup
        case .notResumable: return .taskFailed
        case .conflict: return .usage
        case .serverUnreachable: return .setup
        case .server(let status, _, _):
            switch status {
            case 404: return .notFound
            case 401, 403, 422, 429, 503: return .setup
            case 400..<500: return .usage
            default: return .internalError
            }
        case .github(let problem, _):
            switch problem {
            case .notFound: return .notFound
            case .access, .rateLimited, .unavailable: return .setup
            case .rejected: return .taskFailed
            }
        case .applyRefused: return .taskFailed
        case .sandbox, .store, .step: return .internalError
        }
    }

    var exitCode: ExitCode { ExitCode(rawValue) }
}

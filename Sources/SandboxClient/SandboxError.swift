import Foundation

/// Errors of every sandbox backend. Messages never contain API keys or access tokens.
public enum SandboxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A required program is missing on this machine (`bwrap`, say), with the package that provides it.
    case missingDependency(program: String, package: String)
    /// The backend rejected the credentials (HTTP 401).
    case unauthorized(String)
    /// The sandbox no longer exists (HTTP 404, expired or killed).
    case sandboxNotFound(String)
    /// A file or folder does not exist.
    case fileNotFound(String)
    /// Quota, rate or concurrency limit reached.
    case limitReached(String)
    /// The request was invalid.
    case invalidArgument(String)
    /// The connection failed or broke.
    case transport(String)
    /// A stream ended before its end message.
    case streamEnded(String)
    /// The backend answered with an unexpected status or body.
    case server(status: Int, message: String)
    /// Configuration is missing or wrong (no API key, bad URL).
    case configuration(String)
    /// A local operation failed.
    case io(String)

    public var description: String {
        switch self {
        case .missingDependency(let program, let package):
            return "\(program) not found; install it with: apt-get install \(package)"
        case .unauthorized(let m): return "sandbox service refused the API key: \(m)"
        case .sandboxNotFound(let m): return "sandbox not found: \(m)"
        case .fileNotFound(let m): return "file not found in sandbox: \(m)"
        case .limitReached(let m): return "sandbox limit reached: \(m)"
        case .invalidArgument(let m): return "invalid sandbox request: \(m)"
        case .transport(let m): return "sandbox connection failed: \(m)"
        case .streamEnded(let m): return "sandbox stream ended early: \(m)"
        case .server(let status, let m): return "sandbox service error (HTTP \(status)): \(m)"
        case .configuration(let m): return "sandbox configuration: \(m)"
        case .io(let m): return "sandbox I/O error: \(m)"
        }
    }
}

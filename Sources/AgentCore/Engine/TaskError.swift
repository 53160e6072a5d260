import SandboxClient

/// Errors of the task engine. Messages never contain API keys or tokens.
public enum TaskError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A flag or argument has a bad value.
    case invalidArgument(String)
    /// The repository cannot be reached or cloned.
    case repositoryUnreachable(String, String)
    /// Neither `ANTHROPIC_API_KEY` nor `ANTHROPIC_AUTH_TOKEN` is set.
    case missingCredentials
    /// The Claude Code binary cannot be found.
    case missingAgent(String)
    /// The task cannot be resumed.
    case notResumable(String)
    /// A sandbox operation failed.
    case sandbox(SandboxError)
    /// The store failed.
    case store(StoreError)
    /// A step inside the sandbox failed.
    case step(String)
    /// The request conflicts with what is stored (an idempotency key reused for another request).
    case conflict(String)
    /// A `ca serve` refused the request with a problem that has no case of its own here
    /// (HTTP status, the problem's `code`, its detail).
    case server(status: Int, code: String, message: String)
    /// A `ca serve` could not be reached, or did not answer as the API does.
    case serverUnreachable(String)
    /// `ca task apply` refused to apply a patch (nothing was changed).
    case applyRefused(String)
    /// GitHub refused or failed a request (see ``GitHubProblem``); the message names what and why.
    case github(GitHubProblem, String)

    /// The kinds of GitHub failures, for exit codes and HTTP problems.
    public enum GitHubProblem: String, Sendable, Hashable {
        /// No token, or a token GitHub does not accept, or one without the needed permission.
        case access
        /// The repository, pull request or issue does not exist (or the token cannot see it).
        case notFound
        /// GitHub refused what ca asked for (a push, a pull request, a review).
        case rejected
        /// Rate limited for longer than ca waits.
        case rateLimited
        /// GitHub could not be reached or answered with a server error.
        case unavailable
    }

    /// The message. URLs quoted in it (git's errors quote the remote) are stripped of
    /// credentials, whatever built the error.
    public var description: String {
        RepositorySource.redactCredentials(inText: rawDescription)
    }

    private var rawDescription: String {
        switch self {
        case .invalidArgument(let m): return m
        case .repositoryUnreachable(let url, let reason): return "cannot reach repository \(url): \(reason)"
        case .missingCredentials:
            return "no Anthropic credentials: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)"
        case .missingAgent(let m): return m
        case .notResumable(let m): return "cannot resume: \(m)"
        case .sandbox(let e): return e.description
        case .store(let e): return e.description
        case .step(let m): return m
        case .conflict(let m): return m
        case .server(let status, let code, let message): return "the server refused the request (\(status) \(code)): \(message)"
        case .serverUnreachable(let m): return m
        case .github(_, let m): return m
        case .applyRefused(let m): return m
        }
    }
}

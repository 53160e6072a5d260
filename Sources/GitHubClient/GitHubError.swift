import Foundation

/// Why a GitHub operation failed.
///
/// Texts carried by the cases come from GitHub or from this library; the ones from GitHub are
/// bounded and stripped of control characters. ``description`` is meant for a CLI user and never
/// shows a token: the configured token is removed where errors are made, and anything shaped like
/// a GitHub token is masked again here.
public enum GitHubError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The environment or the arguments describe no usable GitHub setup.
    case invalidConfiguration(String)
    /// The operation needs a token and none is configured.
    case noToken
    /// HTTP 401: the token is wrong, expired or revoked (GitHub's message).
    case badCredentials(String)
    /// HTTP 403 that is not a rate limit: the token lacks a permission (GitHub's message).
    case forbidden(String)
    /// HTTP 404 or 410; carries what was looked for, such as `"repository octo/app"`.
    case notFound(String)
    /// HTTP 422 (GitHub's message and the texts of its `errors`).
    case validationFailed(message: String, details: [String])
    /// HTTP 422 on opening a pull request: one is already open for the branch (GitHub's message).
    case pullRequestExists(String)
    /// A rate limit is in effect and waiting it out was not allowed; `resetsAt` when known.
    case rateLimited(resetsAt: Date?, secondary: Bool)
    /// Any other HTTP status, mostly 5xx (GitHub's message, or a summary of the body).
    case server(status: Int, message: String)
    /// No response: connection refused, reset, timed out, TLS, or the call was cancelled.
    case transport(String)
    /// A response that could not be understood (bad JSON, too large, unexpected redirect).
    case invalidResponse(String)

    public var description: String {
        GitHubText.maskTokens(in: rawDescription)
    }

    private var rawDescription: String {
        switch self {
        case .invalidConfiguration(let message):
            return "Invalid GitHub configuration: \(message)"
        case .noToken:
            return "No GitHub token is configured: set GH_TOKEN or GITHUB_TOKEN"
        case .badCredentials(let message):
            return "GitHub rejected the token (\(Self.orDefault(message, "Bad credentials"))): check GH_TOKEN or GITHUB_TOKEN"
        case .forbidden(let message):
            return "GitHub refused the request (\(Self.orDefault(message, "Forbidden"))): the token may lack a permission"
        case .notFound(let what):
            return "\(Self.capitalized(what)) was not found on GitHub, or the token has no access to it"
        case .validationFailed(let message, let details):
            let head = "GitHub rejected the request: \(Self.orDefault(message, "Validation Failed"))"
            return details.isEmpty ? head : "\(head) (\(details.joined(separator: "; ")))"
        case .pullRequestExists(let message):
            return "A pull request is already open for this branch: \(message)"
        case .rateLimited(let resetsAt, let secondary):
            let kind = secondary ? "GitHub's secondary rate limit was hit" : "The GitHub API rate limit is exhausted"
            guard let resetsAt else { return "\(kind); try again later" }
            return "\(kind); try again after \(resetsAt.formatted(.iso8601))"
        case .server(let status, let message):
            return "GitHub answered with HTTP \(status): \(Self.orDefault(message, "no message"))"
        case .transport(let message):
            return "Could not reach GitHub: \(message)"
        case .invalidResponse(let message):
            return "Unexpected response from GitHub: \(message)"
        }
    }

    private static func orDefault(_ text: String, _ fallback: String) -> String {
        text.isEmpty ? fallback : text
    }

    private static func capitalized(_ text: String) -> String {
        guard let first = text.first else { return "The resource" }
        return first.uppercased() + text.dropFirst()
    }
}

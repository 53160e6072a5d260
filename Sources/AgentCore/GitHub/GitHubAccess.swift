import AsyncHTTPClient
import Foundation
import GitHubClient

/// The engine's way to GitHub: where it is (`GITHUB_SERVER_URL`, `GITHUB_API_URL`), the token
/// (`GH_TOKEN` / `GITHUB_TOKEN`) and a REST client over the process's HTTP client.
///
/// The token reaches git only as an `http.<server>/.extraHeader` passed by environment
/// (``gitConfiguration``), and the REST API only in the `Authorization` header.
public struct GitHubAccess: Sendable {
    public let configuration: GitHubConfiguration
    public let api: GitHubAPI

    public init(configuration: GitHubConfiguration, httpClient: HTTPClient) {
        self.configuration = configuration
        api = GitHubAPI(configuration: configuration, httpClient: httpClient, userAgent: "ca/\(CAVersion.current)")
    }

    /// The GitHub settings of an environment, as a ``TaskError`` when they are wrong.
    public static func configuration(from environment: [String: String]) throws(TaskError) -> GitHubConfiguration {
        do { return try GitHubConfiguration.fromEnvironment(environment) } catch { throw Self.taskError(error) }
    }

    /// Whether `input` has the form `OWNER/NAME` (GitHub's shorthand for a repository).
    public static func isShorthand(_ input: String) -> Bool {
        GitHubRepository(shorthand: input.trimmingCharacters(in: .whitespacesAndNewlines)) != nil
    }

    /// The repository a URL names when it is on this GitHub.
    public func repository(inURL url: String) -> GitHubRepository? {
        configuration.repository(inURL: url)
    }

    /// git configuration for commands that talk to `url`: the token's header when the URL is on
    /// this GitHub and there is a token, nothing otherwise (no other host ever gets the token).
    public func gitConfiguration(for url: String) -> [(key: String, value: String)] {
        configuration.repository(inURL: url) == nil ? [] : configuration.gitConfiguration
    }

    /// The token, as an error when there is none.
    public func requireToken(for what: String) throws(TaskError) {
        guard configuration.token != nil else {
            throw TaskError.github(.access, "\(what) needs a GitHub token: set GH_TOKEN or GITHUB_TOKEN")
        }
    }

    /// A GitHub client error as an engine error.
    public static func taskError(_ error: GitHubError) -> TaskError {
        let message = error.description
        switch error {
        case .invalidConfiguration: return .invalidArgument(message)
        case .noToken, .badCredentials, .forbidden: return .github(.access, message)
        case .notFound: return .github(.notFound, message)
        case .validationFailed, .pullRequestExists: return .github(.rejected, message)
        case .rateLimited: return .github(.rateLimited, message)
        case .server, .transport, .invalidResponse: return .github(.unavailable, message)
        }
    }
}

extension GitHubAPI {
    /// Runs a request and turns its error into a ``TaskError``.
    func call<T: Sendable>(_ body: () async throws(GitHubError) -> T) async throws(TaskError) -> T {
        do { return try await body() } catch { throw GitHubAccess.taskError(error) }
    }
}

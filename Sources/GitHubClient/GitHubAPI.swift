import AsyncHTTPClient
import Foundation

/// A small client for the GitHub REST API (github.com, GitHub Enterprise Server, GHE.com).
///
/// Every request carries `User-Agent`, `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28` and,
/// when a token is configured, `Authorization: Bearer TOKEN` (reads work without one on public repositories; writes
/// and ``authenticatedUser()`` throw ``GitHubError/noToken``). Lists follow `Link: rel="next"` as sent, only on the API's
/// own scheme, host and port, up to a `limit`. Rate limits are waited out within ``GitHubRetryPolicy/maximumWait``;
/// reads are repeated after 502/503/504 and connection failures; writes are never repeated except after a rate-limit
/// answer. Response bodies are bounded (8 MiB, error bodies 64 KiB).
///
/// The `HTTPClient` belongs to the caller, who shuts it down. Redirects are whatever that client does
/// (AsyncHTTPClient drops `Authorization` on a redirect to another origin).
public final class GitHubAPI: Sendable {
    /// The API version sent in `X-GitHub-Api-Version`.
    public static let apiVersion = "2022-11-28"
    /// The largest successful response body read.
    public static let maximumBodySize = 8 * 1024 * 1024
    /// The largest error response body read (the rest is ignored).
    public static let maximumErrorBodySize = 64 * 1024

    /// Where GitHub is and which token to use.
    public let configuration: GitHubConfiguration
    let httpClient: HTTPClient
    let userAgent: String
    let retry: GitHubRetryPolicy
    let timeout: Duration

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - httpClient: The HTTP client to send requests with; the caller shuts it down.
    ///   - userAgent: Sent as `User-Agent` (GitHub refuses requests without one), such as `ca/1.0`.
    ///   - retry: How rate limits and failed reads are handled.
    ///   - timeout: The time limit of one attempt, response body included.
    public init(configuration: GitHubConfiguration, httpClient: HTTPClient, userAgent: String,
                retry: GitHubRetryPolicy = .standard, timeout: Duration = .seconds(60)) {
        self.configuration = configuration
        self.httpClient = httpClient
        let cleanAgent = GitHubText.sanitized(userAgent, limit: 200)
        self.userAgent = cleanAgent.isEmpty ? "ca" : cleanAgent
        self.retry = retry
        self.timeout = timeout
    }

    // MARK: - Users and repositories

    /// The user the token belongs to (`GET /user`). Needs a token.
    public func authenticatedUser() async throws(GitHubError) -> GitHubUser {
        try requireToken()
        return try await get("/user", what: "the authenticated user")
    }

    /// A repository's metadata (`GET /repos/{owner}/{repo}`).
    public func repository(_ repository: GitHubRepository) async throws(GitHubError) -> GitHubRepositoryInfo {
        try await get(Self.repositoryPath(repository), what: "repository \(repository)")
    }

    // MARK: - Pull requests

    /// A pull request (`GET /repos/{owner}/{repo}/pulls/{number}`).
    public func pullRequest(_ repository: GitHubRepository, number: Int) async throws(GitHubError) -> GitHubPullRequest {
        try Self.checkNumber(number)
        return try await get(Self.repositoryPath(repository) + "/pulls/\(number)", what: Self.pullRequestName(repository, number))
    }

    /// The files a pull request changes, with their patches (`GET …/pulls/{number}/files`; GitHub stops at 3,000).
    public func pullRequestFiles(_ repository: GitHubRepository, number: Int, limit: Int = 3000) async throws(GitHubError) -> [GitHubPullRequestFile] {
        try Self.checkNumber(number)
        return try await list(Self.repositoryPath(repository) + "/pulls/\(number)/files", what: Self.pullRequestName(repository, number), limit: limit)
    }

    /// The inline review comments of a pull request, oldest first (`GET …/pulls/{number}/comments`).
    public func reviewComments(_ repository: GitHubRepository, number: Int, limit: Int = 500) async throws(GitHubError) -> [GitHubReviewComment] {
        try Self.checkNumber(number)
        return try await list(Self.repositoryPath(repository) + "/pulls/\(number)/comments", what: Self.pullRequestName(repository, number), limit: limit)
    }

    /// The reviews of a pull request, oldest first (`GET …/pulls/{number}/reviews`).
    public func reviews(_ repository: GitHubRepository, number: Int, limit: Int = 200) async throws(GitHubError) -> [GitHubReview] {
        try Self.checkNumber(number)
        return try await list(Self.repositoryPath(repository) + "/pulls/\(number)/reviews", what: Self.pullRequestName(repository, number), limit: limit)
    }

    /// The open pull requests from `head` (`"owner:branch"`), optionally into `base` (`GET …/pulls?state=open&head=…`).
    public func openPullRequests(_ repository: GitHubRepository, head: String, base: String?) async throws(GitHubError) -> [GitHubPullRequest] {
        var query = [("state", "open"), ("head", head)]
        if let base { query.append(("base", base)) }
        return try await list(Self.repositoryPath(repository) + "/pulls", query: query, what: "repository \(repository)", limit: 100)
    }

    /// Opens a pull request (`POST /repos/{owner}/{repo}/pulls`, answered with 201). Needs a token.
    ///
    /// - Parameters:
    ///   - head: The branch with the changes: `branch`, or `owner:branch` from a fork.
    ///   - base: The branch to merge into.
    /// - Throws: ``GitHubError/pullRequestExists(_:)`` when one is already open for `head` (find it with
    ///   ``openPullRequests(_:head:base:)``); ``GitHubError/validationFailed(message:details:)`` for other refusals,
    ///   such as "No commits between main and feature".
    public func createPullRequest(_ repository: GitHubRepository, title: String, body: String, head: String, base: String,
                                  draft: Bool) async throws(GitHubError) -> GitHubPullRequest {
        try requireToken()
        struct Request: Encodable {
            var title: String
            var body: String
            var head: String
            var base: String
            var draft: Bool
        }
        let request = Request(title: ReviewPlan.truncated(title, limit: 1024), body: ReviewPlan.truncated(body, limit: ReviewPlan.maximumBodyLength),
                              head: head, base: base, draft: draft)
        return try await send("POST", Self.repositoryPath(repository) + "/pulls", body: request, what: "repository \(repository)")
    }

    /// Changes a pull request's title and/or description (`PATCH …/pulls/{number}`); `nil` leaves a field as it is.
    /// Needs a token.
    public func updatePullRequest(_ repository: GitHubRepository, number: Int, title: String?, body: String?) async throws(GitHubError) -> GitHubPullRequest {
        try Self.checkNumber(number)
        try requireToken()
        guard title != nil || body != nil else {
            return try await pullRequest(repository, number: number)
        }
        struct Request: Encodable {
            var title: String?
            var body: String?
        }
        let request = Request(title: title.map { ReviewPlan.truncated($0, limit: 1024) },
                              body: body.map { ReviewPlan.truncated($0, limit: ReviewPlan.maximumBodyLength) })
        return try await send("PATCH", Self.repositoryPath(repository) + "/pulls/\(number)", body: request,
                              what: Self.pullRequestName(repository, number))
    }

    /// Posts a review with event `COMMENT` and inline comments (`POST …/pulls/{number}/reviews`, answered with 200).
    /// Needs a token.
    ///
    /// GitHub rejects the whole review when one comment is outside the diff; check them first with
    /// ``DiffCommentMap`` and ``ReviewPlan``. Bodies longer than GitHub allows are cut with a note.
    public func createReview(_ repository: GitHubRepository, number: Int, commitID: String, body: String,
                             comments: [GitHubReviewDraftComment]) async throws(GitHubError) -> GitHubReview {
        try Self.checkNumber(number)
        try requireToken()
        struct Request: Encodable {
            var commitID: String
            var body: String
            var event = "COMMENT"
            var comments: [GitHubReviewDraftComment]

            enum CodingKeys: String, CodingKey {
                case commitID = "commit_id"
                case body, event, comments
            }
        }
        let bounded = comments.map { comment in
            var comment = comment
            comment.body = ReviewPlan.truncated(comment.body, limit: ReviewPlan.maximumBodyLength)
            return comment
        }
        let request = Request(commitID: commitID, body: ReviewPlan.truncated(body, limit: ReviewPlan.maximumBodyLength), comments: bounded)
        return try await send("POST", Self.repositoryPath(repository) + "/pulls/\(number)/reviews", body: request,
                              what: Self.pullRequestName(repository, number))
    }

    // MARK: - Issues

    /// An issue, or a pull request seen as an issue (`GET /repos/{owner}/{repo}/issues/{number}`).
    public func issue(_ repository: GitHubRepository, number: Int) async throws(GitHubError) -> GitHubIssue {
        try Self.checkNumber(number)
        return try await get(Self.repositoryPath(repository) + "/issues/\(number)", what: "issue #\(number) of \(repository)")
    }

    /// The comments of an issue or of a pull request's conversation, oldest first (`GET …/issues/{number}/comments`).
    public func issueComments(_ repository: GitHubRepository, number: Int, limit: Int = 100) async throws(GitHubError) -> [GitHubIssueComment] {
        try Self.checkNumber(number)
        return try await list(Self.repositoryPath(repository) + "/issues/\(number)/comments", what: "issue #\(number) of \(repository)", limit: limit)
    }

    // MARK: - Helpers

    private func requireToken() throws(GitHubError) {
        guard configuration.token != nil else { throw .noToken }
    }

    private static func checkNumber(_ number: Int) throws(GitHubError) {
        guard (1...Int(Int32.max)).contains(number) else {
            throw .validationFailed(message: "\(number) is not a valid issue or pull request number", details: [])
        }
    }

    static func repositoryPath(_ repository: GitHubRepository) -> String {
        "/repos/\(GitHubPercentEncoding.segment(repository.owner))/\(GitHubPercentEncoding.segment(repository.name))"
    }

    private static func pullRequestName(_ repository: GitHubRepository, _ number: Int) -> String {
        "pull request #\(number) of \(repository)"
    }
}

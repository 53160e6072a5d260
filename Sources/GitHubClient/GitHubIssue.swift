/// An issue, or a pull request seen through the issues API (`GET /repos/{owner}/{repo}/issues/{n}`).
public struct GitHubIssue: Sendable, Hashable, Codable {
    /// The marker GitHub adds to issues that are pull requests.
    public struct PullRequestLink: Sendable, Hashable, Codable {
        /// The pull request's web page, when sent.
        public let htmlURL: String?

        public init(htmlURL: String?) {
            self.htmlURL = htmlURL
        }

        enum CodingKeys: String, CodingKey {
            case htmlURL = "html_url"
        }
    }

    /// The number, shared with pull requests.
    public let number: Int
    /// The title.
    public let title: String
    /// The description; `nil` when empty.
    public let body: String?
    /// The web page.
    public let htmlURL: String
    /// `open` or `closed`.
    public let state: String
    /// The author; `nil` when not sent.
    public let user: GitHubAccount?
    /// Present when the issue is a pull request.
    public let pullRequest: PullRequestLink?

    public init(number: Int, title: String, body: String?, htmlURL: String, state: String, user: GitHubAccount?, pullRequest: PullRequestLink?) {
        self.number = number
        self.title = title
        self.body = body
        self.htmlURL = htmlURL
        self.state = state
        self.user = user
        self.pullRequest = pullRequest
    }

    /// The author's login (`ghost` when GitHub sent none).
    public var userLogin: String { user?.login ?? "ghost" }

    /// Whether this issue is a pull request (GitHub sent a `pull_request` object).
    public var isPullRequest: Bool { pullRequest != nil }

    enum CodingKeys: String, CodingKey {
        case number, title, body, state, user
        case htmlURL = "html_url"
        case pullRequest = "pull_request"
    }
}

/// A comment on an issue or on a pull request's conversation (`GET /repos/{owner}/{repo}/issues/{n}/comments`).
public struct GitHubIssueComment: Sendable, Hashable, Codable {
    /// The comment id.
    public let id: Int
    /// The text (Markdown).
    public let body: String?
    /// The author; `nil` when not sent.
    public let user: GitHubAccount?
    /// The web address (`…#issuecomment-ID`).
    public let htmlURL: String?
    /// When it was written, ISO 8601 as GitHub sent it.
    public let createdAt: String?

    public init(id: Int, body: String?, user: GitHubAccount?, htmlURL: String?, createdAt: String?) {
        self.id = id
        self.body = body
        self.user = user
        self.htmlURL = htmlURL
        self.createdAt = createdAt
    }

    /// The author's login (`ghost` when GitHub sent none).
    public var userLogin: String { user?.login ?? "ghost" }

    enum CodingKeys: String, CodingKey {
        case id, body, user
        case htmlURL = "html_url"
        case createdAt = "created_at"
    }
}

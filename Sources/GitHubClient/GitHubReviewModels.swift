/// An inline review comment on a pull request (`GET /repos/{owner}/{repo}/pulls/{n}/comments`).
public struct GitHubReviewComment: Sendable, Hashable, Codable {
    /// The comment id.
    public let id: Int
    /// The file commented on.
    public let path: String
    /// The (last) line commented on; `nil` when the comment is outdated or on the whole file.
    public let line: Int?
    /// `LEFT` or `RIGHT`, when sent.
    public let side: String?
    /// The first line of a multi-line comment.
    public let startLine: Int?
    /// The text (Markdown).
    public let body: String
    /// The author; `nil` when not sent.
    public let user: GitHubAccount?
    /// The comment this one answers, in a thread.
    public let inReplyToID: Int?

    public init(id: Int, path: String, line: Int?, side: String?, startLine: Int?, body: String, user: GitHubAccount?, inReplyToID: Int?) {
        self.id = id
        self.path = path
        self.line = line
        self.side = side
        self.startLine = startLine
        self.body = body
        self.user = user
        self.inReplyToID = inReplyToID
    }

    /// The author's login (`ghost` when GitHub sent none).
    public var userLogin: String { user?.login ?? "ghost" }

    /// ``side`` as a ``DiffSide``, when it is one.
    public var diffSide: DiffSide? { side.flatMap(DiffSide.init(rawValue:)) }

    enum CodingKeys: String, CodingKey {
        case id, path, line, side, body, user
        case startLine = "start_line"
        case inReplyToID = "in_reply_to_id"
    }
}

/// A review of a pull request (`GET`/`POST /repos/{owner}/{repo}/pulls/{n}/reviews`).
public struct GitHubReview: Sendable, Hashable, Codable {
    /// The review id.
    public let id: Int
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED` or `PENDING`.
    public let state: String
    /// The summary text; `nil` or empty when none.
    public let body: String?
    /// The web address (`…#pullrequestreview-ID`).
    public let htmlURL: String?
    /// The commit reviewed.
    public let commitID: String?
    /// The reviewer; `nil` when not sent.
    public let user: GitHubAccount?

    public init(id: Int, state: String, body: String?, htmlURL: String?, commitID: String?, user: GitHubAccount?) {
        self.id = id
        self.state = state
        self.body = body
        self.htmlURL = htmlURL
        self.commitID = commitID
        self.user = user
    }

    /// The reviewer's login, when known.
    public var userLogin: String? { user?.login }

    enum CodingKeys: String, CodingKey {
        case id, state, body, user
        case htmlURL = "html_url"
        case commitID = "commit_id"
    }
}

/// A pull request (`GET`/`POST`/`PATCH /repos/{owner}/{repo}/pulls…`).
public struct GitHubPullRequest: Sendable, Hashable, Codable {
    /// One end of a pull request: the branch and commit, and for the head its repository.
    public struct Branch: Sendable, Hashable, Codable {
        /// A repository as embedded in a pull request's `head`/`base`.
        public struct Repository: Sendable, Hashable, Codable {
            /// `owner/name`.
            public let fullName: String

            public init(fullName: String) {
                self.fullName = fullName
            }

            enum CodingKeys: String, CodingKey {
                case fullName = "full_name"
            }
        }

        /// The branch name, such as `feature/login`.
        public let ref: String
        /// The commit the branch points at.
        public let sha: String
        /// The repository; `nil` when it was deleted (or not sent).
        public let repo: Repository?

        public init(ref: String, sha: String, repo: Repository? = nil) {
            self.ref = ref
            self.sha = sha
            self.repo = repo
        }

        /// The repository's `owner/name`, when known.
        public var repositoryFullName: String? { repo?.fullName }
    }

    /// The number, shared with issues.
    public let number: Int
    /// The web page.
    public let htmlURL: String
    /// `open` or `closed`.
    public let state: String
    /// The title.
    public let title: String
    /// The description; `nil` when empty.
    public let body: String?
    /// Whether it is a draft, when sent.
    public let draft: Bool?
    /// The author; `nil` when not sent.
    public let user: GitHubAccount?
    /// The branch with the changes.
    public let head: Branch
    /// The branch the changes go into.
    public let base: Branch

    public init(number: Int, htmlURL: String, state: String, title: String, body: String?, draft: Bool?,
                user: GitHubAccount?, head: Branch, base: Branch) {
        self.number = number
        self.htmlURL = htmlURL
        self.state = state
        self.title = title
        self.body = body
        self.draft = draft
        self.user = user
        self.head = head
        self.base = base
    }

    /// The author's login (`ghost` when GitHub sent none).
    public var userLogin: String { user?.login ?? "ghost" }

    enum CodingKeys: String, CodingKey {
        case number
        case htmlURL = "html_url"
        case state, title, body, draft, user, head, base
    }
}

/// One file of a pull request (`GET /repos/{owner}/{repo}/pulls/{n}/files`).
public struct GitHubPullRequestFile: Sendable, Hashable, Codable {
    /// The path in the head version.
    public let filename: String
    /// `added`, `removed`, `modified`, `renamed`, `copied`, `changed` or `unchanged`.
    public let status: String
    /// Lines added.
    public let additions: Int
    /// Lines deleted.
    public let deletions: Int
    /// The unified diff hunks; `nil` for binary files and very large diffs.
    public let patch: String?
    /// The path before a rename or copy.
    public let previousFilename: String?

    public init(filename: String, status: String, additions: Int = 0, deletions: Int = 0, patch: String?, previousFilename: String? = nil) {
        self.filename = filename
        self.status = status
        self.additions = additions
        self.deletions = deletions
        self.patch = patch
        self.previousFilename = previousFilename
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        filename = try container.decode(String.self, forKey: .filename)
        status = try container.decodeIfPresent(String.self, forKey: .status) ?? "modified"
        additions = try container.decodeIfPresent(Int.self, forKey: .additions) ?? 0
        deletions = try container.decodeIfPresent(Int.self, forKey: .deletions) ?? 0
        patch = try container.decodeIfPresent(String.self, forKey: .patch)
        previousFilename = try container.decodeIfPresent(String.self, forKey: .previousFilename)
    }

    enum CodingKeys: String, CodingKey {
        case filename, status, additions, deletions, patch
        case previousFilename = "previous_filename"
    }
}

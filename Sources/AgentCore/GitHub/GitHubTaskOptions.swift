/// What a task does on GitHub besides running the agent, as asked at creation and stored with
/// the task (column `github`, JSON).
public struct GitHubTaskOptions: Sendable, Codable, Hashable {
    /// `--open-pr`: commit the changes on `ca/<task id>`, push, and open (or, for a resumed
    /// task, update) a pull request.
    public var openPullRequest: OpenPullRequest?
    /// `ca pr review`: the task reviews a pull request.
    public var review: Review?

    public init(openPullRequest: OpenPullRequest? = nil, review: Review? = nil) {
        self.openPullRequest = openPullRequest
        self.review = review
    }

    /// Options of `--open-pr`.
    public struct OpenPullRequest: Sendable, Codable, Hashable {
        /// The branch the pull request goes into; `nil` is the repository's default branch (or
        /// the task's `--branch`).
        public var base: String?
        /// Open it as a draft.
        public var draft: Bool

        public init(base: String? = nil, draft: Bool = false) {
            self.base = base
            self.draft = draft
        }
    }

    /// The pull request a review task reviews.
    public struct Review: Sendable, Codable, Hashable {
        /// `owner/name`.
        public var repository: String
        public var number: Int
        /// Post the review on the pull request (`--post`); otherwise it is only stored and printed.
        public var post: Bool

        public init(repository: String, number: Int, post: Bool) {
            self.repository = repository
            self.number = number
            self.post = post
        }
    }

    enum CodingKeys: String, CodingKey {
        case openPullRequest = "open_pull_request"
        case review
    }
}

extension GitHubTaskOptions.OpenPullRequest {
    enum CodingKeys: String, CodingKey { case base, draft }
}

/// A repository's metadata (`GET /repos/{owner}/{repo}`).
public struct GitHubRepositoryInfo: Sendable, Hashable, Codable {
    /// `owner/name` as GitHub spells it.
    public let fullName: String
    /// The default branch, such as `main`.
    public let defaultBranch: String
    /// Whether the repository is private (or internal).
    public let isPrivate: Bool
    /// The https clone URL.
    public let cloneURL: String
    /// The web page.
    public let htmlURL: String

    public init(fullName: String, defaultBranch: String, isPrivate: Bool, cloneURL: String, htmlURL: String) {
        self.fullName = fullName
        self.defaultBranch = defaultBranch
        self.isPrivate = isPrivate
        self.cloneURL = cloneURL
        self.htmlURL = htmlURL
    }

    enum CodingKeys: String, CodingKey {
        case fullName = "full_name"
        case defaultBranch = "default_branch"
        case isPrivate = "private"
        case cloneURL = "clone_url"
        case htmlURL = "html_url"
    }
}

/// A GitHub user or organization as embedded in other objects (`user`, `owner`).
public struct GitHubAccount: Sendable, Hashable, Codable {
    /// The login, such as `octocat`.
    public let login: String
    /// The numeric id, when sent.
    public let id: Int?

    public init(login: String, id: Int? = nil) {
        self.login = login
        self.id = id
    }
}

/// The user the token belongs to (`GET /user`).
public struct GitHubUser: Sendable, Hashable, Codable {
    /// The login, such as `octocat`.
    public let login: String
    /// The numeric user id.
    public let id: Int

    public init(login: String, id: Int) {
        self.login = login
        self.id = id
    }
}

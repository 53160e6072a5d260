import Foundation

/// A repository of a ``FakeGitHub``: its settings and its issues and pull requests.
public struct FakeGitHubRepository: Sendable {
    /// The owner's login, as given when it was created.
    public var owner: String
    /// The repository name, as given when it was created.
    public var name: String
    /// The repository id.
    public var id: Int
    /// Whether only the owner and collaborators may see it.
    public var isPrivate: Bool
    /// The default branch.
    public var defaultBranch: String
    /// Logins (lowercased) with push access besides the owner.
    public var collaborators: Set<String>
    /// Issues and pull requests by number (one sequence for both).
    public var issues: [Int: FakeGitHubIssue] = [:]
    /// The number the next issue or pull request gets.
    public var nextNumber = 1

    /// `owner/name`.
    public var fullName: String { "\(owner)/\(name)" }

    /// The lowercased `owner/name`, used as key (GitHub names are case-insensitive).
    var key: String { fullName.lowercased() }

    /// Whether `login` (lowercased or not) may read the repository.
    func canRead(_ login: String?) -> Bool {
        !isPrivate || canWrite(login)
    }

    /// Whether `login` may push to the repository.
    func canWrite(_ login: String?) -> Bool {
        guard let login = login?.lowercased() else { return false }
        return login == owner.lowercased() || collaborators.contains(login)
    }
}

/// An issue, or the issue half of a pull request, of a ``FakeGitHub`` repository.
public struct FakeGitHubIssue: Sendable {
    /// The number shared by issues and pull requests of one repository.
    public var number: Int
    /// The issue id (differs from the pull request id, as on GitHub).
    public var id: Int
    public var title: String
    public var body: String?
    /// The author's login.
    public var author: String
    /// `open` or `closed`.
    public var state: String
    public var createdAt: Date
    public var updatedAt: Date
    public var closedAt: Date?
    /// The issue comments, oldest first.
    public var comments: [FakeGitHubIssueComment] = []
    /// The pull request half, when this issue is a pull request.
    public var pull: FakeGitHubPullRequest?
}

/// An issue comment (on an issue or a pull request's conversation).
public struct FakeGitHubIssueComment: Sendable, Equatable {
    public var id: Int
    public var body: String
    /// The author's login.
    public var author: String
    public var createdAt: Date
}

/// A pull request of a ``FakeGitHub`` repository (the fields beyond its issue).
public struct FakeGitHubPullRequest: Sendable {
    /// The issue number.
    public var number: Int
    /// The pull request id.
    public var id: Int
    public var title: String
    public var body: String?
    /// The head branch (in the same repository).
    public var head: String
    /// The base branch.
    public var base: String
    public var draft: Bool
    /// The author's login.
    public var author: String
    /// `open` or `closed`.
    public var state: String
    public var maintainerCanModify: Bool
    /// Reviews in the order they were created.
    public var reviews: [FakeGitHubReview] = []
}

/// A pull request review and its inline comments.
public struct FakeGitHubReview: Sendable {
    public var id: Int
    /// The event it was created with: `APPROVE`, `REQUEST_CHANGES`, `COMMENT`, or `nil` (pending).
    public var event: String?
    public var body: String
    public var commitID: String
    /// The reviewer's login.
    public var author: String
    /// `nil` while pending.
    public var submittedAt: Date?
    public var comments: [FakeGitHubReviewComment]

    /// GitHub's `state`: `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED` or `PENDING`.
    public var state: String {
        switch event {
        case "APPROVE": "APPROVED"
        case "REQUEST_CHANGES": "CHANGES_REQUESTED"
        case "COMMENT": "COMMENTED"
        default: "PENDING"
        }
    }
}

/// An inline review comment.
public struct FakeGitHubReviewComment: Sendable, Equatable {
    public var id: Int
    public var path: String
    /// The line (new numbers for `RIGHT`, old for `LEFT`); `nil` for a legacy `position` comment
    /// that points at a hunk header.
    public var line: Int?
    /// `RIGHT` or `LEFT`.
    public var side: String
    public var startLine: Int?
    public var startSide: String?
    /// The position in the file's patch (1 = the line after the first `@@`).
    public var position: Int
    /// The hunk text up to and including the commented line.
    public var diffHunk: String
    public var body: String
    public var author: String
    public var commitID: String
    public var inReplyTo: Int?
    public var createdAt: Date
}

/// One request seen by a ``FakeGitHub``. The token and the `Authorization` value are never kept.
public struct FakeGitHubRequestRecord: Sendable, Equatable {
    /// `api` (under `/api/v3`), `git` (smart HTTP) or `other`.
    public var kind: String
    public var method: String
    /// The decoded path.
    public var path: String
    /// The raw query string (empty when none).
    public var query: String
    public var status: Int
    /// `basic`, `bearer`, `token`, another lowercased scheme, or `nil` without `Authorization`.
    public var authScheme: String?
    /// The user the credentials belong to, when they were valid.
    public var user: String?
    public var userAgent: String?
}

/// The mutable state of a ``FakeGitHub``, kept behind one lock.
struct FakeGitHubState: Sendable {
    /// token → login.
    var tokens: [String: String] = [:]
    /// lowercased login → user id.
    var userIDs: [String: Int] = [:]
    /// lowercased login → login as first seen.
    var logins: [String: String] = [:]
    /// Repositories by lowercased `owner/name`.
    var repositories: [String: FakeGitHubRepository] = [:]
    var nextID = 1000
    var log: [FakeGitHubRequestRecord] = []
    var rateLimit = FakeGitHubRateLimit()

    /// A new id for any object (ids need only be unique).
    mutating func makeID() -> Int {
        nextID += 1
        return nextID
    }

    /// The id of `login`, registered on first use.
    mutating func userID(_ login: String) -> Int {
        let key = login.lowercased()
        if let id = userIDs[key] { return id }
        let id = userIDs.count + 1
        userIDs[key] = id
        logins[key] = login
        return id
    }
}

/// The primary and secondary rate-limit counters and armed faults.
struct FakeGitHubRateLimit: Sendable {
    static let limit = 5000
    var used = 0
    /// Epoch seconds when the hour window resets.
    var windowReset = Int(Date().timeIntervalSince1970) + 3600
    /// Requests left before the primary limit trips (armed), `nil` when not armed.
    var primaryTripsIn: Int?
    var primaryResetAfter = 0
    /// While set, requests before this epoch second get the primary 403.
    var primaryLimitedUntil: Int?
    var secondaryCount = 0
    var secondaryRetryAfter = 60
}

import Foundation

/// A GitHub repository named `owner/name`.
///
/// Both parts are validated against GitHub's naming rules, so a value of this type is always safe
/// to put into a URL path or a git remote: the owner is 1 to 39 letters, digits or hyphens (no
/// leading hyphen), the name 1 to 100 letters, digits, `.`, `_` or `-` and neither `.` nor `..`.
/// A trailing `.git` on the name is dropped. Comparison is exact (GitHub itself compares
/// case-insensitively).
///
/// Encoded as the single string `"owner/name"`.
public struct GitHubRepository: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The user or organization that owns the repository.
    public let owner: String
    /// The repository's name, without `.git`.
    public let name: String

    /// Creates a repository name, or returns `nil` when `owner` or `name` is not a valid GitHub name.
    ///
    /// A trailing `.git` is removed from `name` first.
    public init?(owner: String, name: String) {
        var name = name
        if name.hasSuffix(".git") {
            name.removeLast(4)
        }
        guard Self.isValidOwner(owner), Self.isValidName(name) else { return nil }
        self.owner = owner
        self.name = name
    }

    /// Parses exactly `"owner/name"` (a trailing `.git` on the name is allowed and dropped).
    public init?(shorthand: String) {
        let parts = shorthand.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        self.init(owner: String(parts[0]), name: String(parts[1]))
    }

    /// `"owner/name"`.
    public var description: String { "\(owner)/\(name)" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let repository = GitHubRepository(shorthand: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a GitHub repository name (owner/name)")
        }
        self = repository
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    static func isValidOwner(_ owner: String) -> Bool {
        let scalars = owner.unicodeScalars
        guard (1...39).contains(scalars.count), scalars.first != "-" else { return false }
        return scalars.allSatisfy { isASCIIAlphanumeric($0) || $0 == "-" }
    }

    static func isValidName(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard (1...100).contains(scalars.count), name != ".", name != ".." else { return false }
        return scalars.allSatisfy { isASCIIAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}

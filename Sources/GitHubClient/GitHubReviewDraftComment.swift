/// The side of a diff a review comment is on.
public enum DiffSide: String, Sendable, Codable, Hashable {
    /// The old version: deleted and context lines, old line numbers.
    case left = "LEFT"
    /// The new version: added and context lines, new line numbers.
    case right = "RIGHT"
}

/// An inline comment to post with a review (an element of `comments` in `POST …/pulls/{n}/reviews`).
///
/// Encodes as `path`, `line`, `side`, `body`, and for a multi-line comment (``startLine`` before ``line``)
/// `start_line` and `start_side` (the same side).
public struct GitHubReviewDraftComment: Sendable, Hashable, Codable {
    /// The file, as named in the pull request's head.
    public var path: String
    /// The line commented on (the last one of a range), numbered in the version ``side`` names.
    public var line: Int
    /// The first line of a multi-line comment; `nil` (or equal to ``line``) for one line.
    public var startLine: Int?
    /// Which version of the file the line numbers refer to.
    public var side: DiffSide
    /// The text (Markdown).
    public var body: String

    public init(path: String, line: Int, startLine: Int? = nil, side: DiffSide = .right, body: String) {
        self.path = path
        self.line = line
        self.startLine = startLine
        self.side = side
        self.body = body
    }

    /// The first line of a range comment, or `nil` when the comment covers one line.
    var effectiveStartLine: Int? {
        guard let startLine, startLine != line else { return nil }
        return startLine
    }

    enum CodingKeys: String, CodingKey {
        case path, line, side, body
        case startLine = "start_line"
        case startSide = "start_side"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        line = try container.decode(Int.self, forKey: .line)
        startLine = try container.decodeIfPresent(Int.self, forKey: .startLine)
        side = try container.decodeIfPresent(DiffSide.self, forKey: .side) ?? .right
        body = try container.decode(String.self, forKey: .body)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(line, forKey: .line)
        try container.encode(side, forKey: .side)
        if let startLine = effectiveStartLine {
            try container.encode(startLine, forKey: .startLine)
            try container.encode(side, forKey: .startSide)
        }
        try container.encode(body, forKey: .body)
    }

    /// `path:line` or `path:start-end`.
    var location: String {
        if let startLine = effectiveStartLine {
            return "\(path):\(startLine)-\(line)"
        }
        return "\(path):\(line)"
    }
}

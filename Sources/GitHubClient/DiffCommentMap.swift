import Foundation

/// Which lines of a pull request can carry an inline review comment, read from the `patch` of each file.
///
/// GitHub rejects a whole review when one comment is outside the diff, so every comment is checked here
/// first. A line is commentable on the `RIGHT` side when it is an added or context line of a hunk (new
/// line numbers), on the `LEFT` side when it is a deleted or context line (old line numbers). A multi-line
/// comment's start line must be on the same side, in the same hunk, and not after its line.
public struct DiffCommentMap: Sendable {
    struct Hunk: Sendable {
        var left: Set<Int> = []
        var right: Set<Int> = []
    }

    enum FileDiff: Sendable {
        /// The file is in the pull request but has no textual diff (binary, or too large for GitHub).
        case noPatch
        case hunks([Hunk])
    }

    private let files: [String: FileDiff]

    /// Reads the hunks of every file's `patch`.
    public init(files: [GitHubPullRequestFile]) {
        var map: [String: FileDiff] = [:]
        for file in files {
            if let patch = file.patch {
                map[file.filename] = .hunks(Self.parse(patch))
            } else if map[file.filename] == nil {
                map[file.filename] = .noPatch
            }
        }
        self.files = map
    }

    /// Whether `comment` can be posted inline: `nil` when it can, else the reason it cannot, such as
    /// `"line 40 of src/a.swift is not part of the diff"`.
    public func check(_ comment: GitHubReviewDraftComment) -> String? {
        let path = comment.path
        if comment.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return "the comment on \(path) is empty"
        }
        guard let file = files[path] else {
            return "\(path) is not one of the files changed by the pull request"
        }
        guard case .hunks(let hunks) = file else {
            return "\(path) has no text diff (binary or too large), so its lines cannot be commented on"
        }
        let place = comment.side == .left ? "of the old version of \(path)" : "of \(path)"
        guard comment.line >= 1 else {
            return "line \(comment.line) \(place) is not a valid line number"
        }
        func lines(_ hunk: Hunk) -> Set<Int> { comment.side == .left ? hunk.left : hunk.right }
        guard let hunkIndex = hunks.firstIndex(where: { lines($0).contains(comment.line) }) else {
            return "line \(comment.line) \(place) is not part of the diff"
        }
        guard let startLine = comment.effectiveStartLine else { return nil }
        if startLine > comment.line {
            return "the start line \(startLine) comes after line \(comment.line) \(place)"
        }
        if startLine < 1 {
            return "line \(startLine) \(place) is not a valid line number"
        }
        if !lines(hunks[hunkIndex]).contains(startLine) {
            if hunks.contains(where: { lines($0).contains(startLine) }) {
                return "lines \(startLine)-\(comment.line) \(place) are in different hunks of the diff"
            }
            return "line \(startLine) \(place) is not part of the diff"
        }
        return nil
    }

    /// Parses the hunks of a unified diff (`@@ -a,b +c,d @@` headers and ` `, `+`, `-`, `\` lines).
    static func parse(_ patch: String) -> [Hunk] {
        var hunks: [Hunk] = []
        var current: Hunk?
        var oldLine = 0
        var newLine = 0
        var oldRemaining = 0
        var newRemaining = 0
        for rawLine in patch.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            if line.hasPrefix("@@"), let header = parseHeader(line) {
                if let current { hunks.append(current) }
                current = Hunk()
                (oldLine, oldRemaining, newLine, newRemaining) = header
                continue
            }
            guard current != nil, oldRemaining > 0 || newRemaining > 0 else { continue }
            switch line.first {
            case "+":
                current?.right.insert(newLine)
                newLine += 1
                newRemaining -= 1
            case "-":
                current?.left.insert(oldLine)
                oldLine += 1
                oldRemaining -= 1
            case "\\":
                continue // "\ No newline at end of file"
            default:
                // A context line (" text"), or an empty line whose leading space was lost.
                current?.left.insert(oldLine)
                current?.right.insert(newLine)
                oldLine += 1
                newLine += 1
                oldRemaining -= 1
                newRemaining -= 1
            }
        }
        if let current { hunks.append(current) }
        return hunks
    }

    /// `@@ -start[,count] +start[,count] @@…` → (oldStart, oldCount, newStart, newCount).
    private static func parseHeader(_ line: Substring) -> (Int, Int, Int, Int)? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 3, fields[0] == "@@", fields[1].hasPrefix("-"), fields[2].hasPrefix("+"),
              let old = parseRange(fields[1].dropFirst()), let new = parseRange(fields[2].dropFirst()) else { return nil }
        return (old.start, old.count, new.start, new.count)
    }

    private static func parseRange(_ text: Substring) -> (start: Int, count: Int)? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let start = Int(parts[0]), start >= 0 else { return nil }
        let count = parts.count == 2 ? Int(parts[1]) : 1
        guard let count, count >= 0, count <= 10_000_000 else { return nil }
        return (start, count)
    }
}

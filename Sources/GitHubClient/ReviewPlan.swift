import Foundation

/// A review ready to post: the inline comments GitHub will accept, and a body that carries the rest.
///
/// GitHub rejects a whole review when one inline comment is outside the diff, without saying which.
/// ``plan(summary:comments:map:maximumComments:)`` checks every comment against a ``DiffCommentMap``
/// first and folds the ones that cannot be inline into the body, so the review always goes through.
public struct ReviewPlan: Sendable {
    /// A comment that could not be posted inline, and why.
    public struct MovedComment: Sendable, Hashable {
        /// The comment as it was drafted.
        public let comment: GitHubReviewDraftComment
        /// Why it is in the body instead, such as `"line 40 of src/a.swift is not part of the diff"`.
        public let reason: String

        public init(comment: GitHubReviewDraftComment, reason: String) {
            self.comment = comment
            self.reason = reason
        }
    }

    /// GitHub's limit for a review or comment body, in characters.
    public static let maximumBodyLength = 65_536

    /// The heading above the comments folded into the body.
    public static let movedCommentsHeading = "Comments outside the diff"

    /// The review body: the summary, then the moved comments; at most ``maximumBodyLength`` characters.
    public let body: String
    /// The comments to post inline, each valid against the map and bounded in length.
    public let comments: [GitHubReviewDraftComment]
    /// The comments folded into ``body``, in their original order.
    public let moved: [MovedComment]

    public init(body: String, comments: [GitHubReviewDraftComment], moved: [MovedComment]) {
        self.body = body
        self.comments = comments
        self.moved = moved
    }

    /// Sorts `comments` into inline ones (valid per `map`, the first `maximumComments`) and moved ones, and
    /// writes the body: `summary`, then under "Comments outside the diff" each moved comment's location
    /// (`path:line` or `path:start-end`, with the side) and text. Bodies longer than GitHub allows are cut
    /// with a note.
    public static func plan(summary: String, comments: [GitHubReviewDraftComment], map: DiffCommentMap,
                            maximumComments: Int = 50) -> ReviewPlan {
        var inline: [GitHubReviewDraftComment] = []
        var moved: [MovedComment] = []
        let maximumComments = max(0, maximumComments)
        for comment in comments {
            if let reason = map.check(comment) {
                moved.append(MovedComment(comment: comment, reason: reason))
            } else if inline.count >= maximumComments {
                moved.append(MovedComment(comment: comment, reason: "more than \(maximumComments) inline comments"))
            } else {
                var bounded = comment
                bounded.body = truncated(comment.body, limit: maximumBodyLength)
                inline.append(bounded)
            }
        }
        var body = summary.trimmingCharacters(in: .whitespacesAndNewlines)
        if !moved.isEmpty {
            var section = "### \(movedCommentsHeading)\n"
            for item in moved {
                let comment = item.comment
                let side = comment.side == .left ? "old version (LEFT)" : "new version (RIGHT)"
                section += "\n**`\(comment.location)`** (\(side)): \(item.reason)\n\n"
                section += quoted(comment.body) + "\n"
            }
            body = body.isEmpty ? section : body + "\n\n" + section
        }
        if body.isEmpty {
            body = "(no summary)"
        }
        return ReviewPlan(body: truncated(body, limit: maximumBodyLength), comments: inline, moved: moved)
    }

    /// The text as a Markdown block quote.
    private static func quoted(_ text: String) -> String {
        let lines = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n", omittingEmptySubsequences: false)
        if lines.isEmpty || (lines.count == 1 && lines[0].isEmpty) { return "> (empty comment)" }
        return lines.map { $0.isEmpty ? ">" : "> \($0)" }.joined(separator: "\n")
    }

    /// `text` if it has at most `limit` UTF-16 units, else its start and a note saying how much was cut.
    static func truncated(_ text: String, limit: Int) -> String {
        guard text.utf16.count > limit else { return text }
        let total = text.count
        let noteReserve = 120
        var kept = ""
        var units = 0
        var characters = 0
        for character in text {
            let size = character.utf16.count
            if units + size > limit - noteReserve { break }
            kept.append(character)
            units += size
            characters += 1
        }
        return kept + "\n\n… (truncated: \(total - characters) more characters not shown)"
    }
}

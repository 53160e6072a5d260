import Foundation
import Testing
@testable import GitHubClient

@Suite("ReviewPlan")
struct ReviewPlanTests {
    let map = DiffCommentMap(files: [
        GitHubPullRequestFile(filename: "a.swift", status: "modified", patch: "@@ -1,2 +1,3 @@\n x\n+y\n z"),
    ])

    @Test func validInlineInvalidFolded() {
        let comments = [
            GitHubReviewDraftComment(path: "a.swift", line: 2, body: "good"),
            GitHubReviewDraftComment(path: "a.swift", line: 40, body: "outside\nsecond line"),
            GitHubReviewDraftComment(path: "b.swift", line: 3, startLine: 1, side: .left, body: "other file"),
        ]
        let plan = ReviewPlan.plan(summary: "Looks fine.", comments: comments, map: map)
        #expect(plan.comments == [comments[0]])
        #expect(plan.moved.map(\.comment) == [comments[1], comments[2]])
        #expect(plan.moved[0].reason == "line 40 of a.swift is not part of the diff")
        #expect(plan.body.hasPrefix("Looks fine.\n\n### Comments outside the diff"))
        #expect(plan.body.contains("`a.swift:40`"))
        #expect(plan.body.contains("> outside\n> second line"))
        #expect(plan.body.contains("`b.swift:1-3`"))
        #expect(plan.body.contains("LEFT"))
    }

    @Test func allValidKeepsSummaryOnly() {
        let comments = [GitHubReviewDraftComment(path: "a.swift", line: 3, startLine: 1, body: "range")]
        let plan = ReviewPlan.plan(summary: "Summary", comments: comments, map: map)
        #expect(plan.body == "Summary")
        #expect(plan.comments == comments)
        #expect(plan.moved.isEmpty)
    }

    @Test func maximumComments() {
        let comments = (0..<5).map { GitHubReviewDraftComment(path: "a.swift", line: 1 + $0 % 3, body: "c\($0)") }
        let plan = ReviewPlan.plan(summary: "S", comments: comments, map: map, maximumComments: 2)
        #expect(plan.comments.map(\.body) == ["c0", "c1"])
        #expect(plan.moved.map(\.comment.body) == ["c2", "c3", "c4"])
        #expect(plan.moved.allSatisfy { $0.reason == "more than 2 inline comments" })
    }

    @Test func longBodiesAreTruncated() {
        let huge = String(repeating: "é🙂x", count: 40_000)
        let comments = [
            GitHubReviewDraftComment(path: "a.swift", line: 2, body: huge),
            GitHubReviewDraftComment(path: "a.swift", line: 99, body: huge),
        ]
        let plan = ReviewPlan.plan(summary: huge, comments: comments, map: map)
        #expect(plan.body.utf16.count <= ReviewPlan.maximumBodyLength)
        #expect(plan.body.contains("truncated"))
        #expect(plan.comments.first.map { $0.body.utf16.count <= ReviewPlan.maximumBodyLength } == true)
        #expect(plan.comments.first?.body.hasSuffix("more characters not shown)") == true)
    }

    @Test func emptySummaryStillHasBody() {
        #expect(ReviewPlan.plan(summary: "  ", comments: [], map: map).body.isEmpty == false)
    }

    @Test func draftCommentEncoding() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let range = GitHubReviewDraftComment(path: "a/b.swift", line: 7, startLine: 5, side: .left, body: "x")
        #expect(String(decoding: try encoder.encode(range), as: UTF8.self)
            == #"{"body":"x","line":7,"path":"a/b.swift","side":"LEFT","start_line":5,"start_side":"LEFT"}"#)
        let single = GitHubReviewDraftComment(path: "a", line: 7, startLine: 7, body: "x")
        #expect(String(decoding: try encoder.encode(single), as: UTF8.self) == #"{"body":"x","line":7,"path":"a","side":"RIGHT"}"#)
    }
}

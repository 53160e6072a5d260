import Testing
@testable import GitHubClient

@Suite("DiffCommentMap")
struct DiffCommentMapTests {
    /// Old lines 10-13 → new lines 10-14: 10 context, 11 deleted, 11-12 added, 12/13 context (old) = 13/14 (new).
    /// Second hunk: old 40-41, new 41-43 (41 context, 42-43 added, old 41 context = new 44? no: counts below).
    static let patch = """
    @@ -10,4 +10,5 @@ func main() {
     let a = 1
    -let b = 2
    +let b = 3
    +let c = 4
     let d = 5
     let e = 6
    @@ -40,2 +41,3 @@ struct X {
     var x: Int
    +var y: Int
     }
    \\ No newline at end of file
    """

    static let files = [
        GitHubPullRequestFile(filename: "src/a.swift", status: "modified", additions: 3, deletions: 1, patch: patch),
        GitHubPullRequestFile(filename: "logo.png", status: "added", patch: nil),
    ]

    let map = DiffCommentMap(files: Self.files)

    func comment(_ line: Int, start: Int? = nil, side: DiffSide = .right, path: String = "src/a.swift") -> GitHubReviewDraftComment {
        GitHubReviewDraftComment(path: path, line: line, startLine: start, side: side, body: "note")
    }

    @Test func rightSideHasAddedAndContextLines() {
        for line in [10, 11, 12, 13, 14, 41, 42, 43] {
            #expect(map.check(comment(line)) == nil, "RIGHT \(line)")
        }
        for line in [1, 9, 15, 40, 44, 100] {
            #expect(map.check(comment(line)) == "line \(line) of src/a.swift is not part of the diff", "RIGHT \(line)")
        }
    }

    @Test func leftSideHasDeletedAndContextLines() {
        for line in [10, 11, 12, 13, 40, 41] {
            #expect(map.check(comment(line, side: .left)) == nil, "LEFT \(line)")
        }
        for line in [9, 14, 42] {
            #expect(map.check(comment(line, side: .left)) != nil, "LEFT \(line)")
        }
    }

    @Test func multiLineComments() {
        #expect(map.check(comment(14, start: 10)) == nil)
        #expect(map.check(comment(12, start: 12)) == nil) // same line = single-line
        #expect(map.check(comment(42, start: 12))?.contains("different hunks") == true)
        #expect(map.check(comment(12, start: 14))?.contains("comes after") == true)
        #expect(map.check(comment(12, start: 5))?.contains("line 5") == true)
    }

    @Test func fileWithoutPatchAndUnknownFile() {
        #expect(map.check(comment(1, path: "logo.png"))?.contains("no text diff") == true)
        #expect(map.check(comment(1, path: "other.swift"))?.contains("not one of the files") == true)
        #expect(map.check(GitHubReviewDraftComment(path: "src/a.swift", line: 11, body: "  \n")) != nil)
        #expect(map.check(comment(0)) != nil)
        #expect(map.check(comment(-3)) != nil)
    }

    @Test func noNewlineMarkerDoesNotShiftNumbers() {
        let patch = """
        @@ -1,2 +1,2 @@
        -old
        \\ No newline at end of file
        +new
        \\ No newline at end of file
         kept
        """
        let map = DiffCommentMap(files: [GitHubPullRequestFile(filename: "f", status: "modified", patch: patch)])
        let hunks = DiffCommentMap.parse(patch)
        #expect(hunks.count == 1)
        #expect(hunks.first?.left == [1, 2])
        #expect(hunks.first?.right == [1, 2])
        #expect(map.check(GitHubReviewDraftComment(path: "f", line: 2, body: "x")) == nil)
        #expect(map.check(GitHubReviewDraftComment(path: "f", line: 3, body: "x")) != nil)
    }

    @Test func newFileAndDeletedFileHunks() {
        let added = DiffCommentMap.parse("@@ -0,0 +1,3 @@\n+a\n+b\n+c")
        #expect(added.first?.right == [1, 2, 3])
        #expect(added.first?.left == [])
        let removed = DiffCommentMap.parse("@@ -1,2 +0,0 @@\n-a\n-b\n")
        #expect(removed.first?.left == [1, 2])
        #expect(removed.first?.right == [])
        let single = DiffCommentMap.parse("@@ -5 +5 @@\n-x\n+y")
        #expect(single.first?.left == [5])
        #expect(single.first?.right == [5])
    }

    @Test func garbagePatchYieldsNoLines() {
        #expect(DiffCommentMap.parse("not a diff\n+x\n-y").isEmpty)
        #expect(DiffCommentMap.parse("@@ -a,b +c,d @@\n+x").isEmpty)
        let map = DiffCommentMap(files: [GitHubPullRequestFile(filename: "f", status: "modified", patch: "")])
        #expect(map.check(GitHubReviewDraftComment(path: "f", line: 1, body: "x")) != nil)
    }
}

import Foundation

/// `POST /repos/{o}/{r}/pulls/{n}/reviews`: validation of every inline comment against the pull
/// request's patch hunks (all or nothing), and storing the review.
extension FakeGitHubService {
    static let lineNotInDiff = "Pull request review thread line must be part of the diff"
    static let startLineNotInHunk = "Pull request review thread start line must be part of the same hunk as the line."
    static let pathNotResolved = "Path could not be resolved"
    static let positionNotResolved = "Position could not be resolved"

    func createReview(_ call: Call, _ repo: FakeGitHubRepository, number: Int, body: FakeJSON, base: String, head: String) async throws -> FakeGitHubResponse {
        let user = call.auth.user!
        let pull = repo.issues[number]!.pull!
        let event = body["event"]?.stringValue
        let text = body["body"]?.stringValue ?? ""
        if let event, !["APPROVE", "REQUEST_CHANGES", "COMMENT"].contains(event) {
            return FakeGitHubJSON.unprocessable(["Unknown review event \(event)"])
        }
        let isAuthor = pull.author.lowercased() == user.lowercased()
        if event == "APPROVE", isAuthor { return FakeGitHubJSON.unprocessable(["Can not approve your own pull request"]) }
        if event == "REQUEST_CHANGES", isAuthor { return FakeGitHubJSON.unprocessable(["Review Can not request changes on your own pull request"]) }
        if event == "COMMENT" || event == "REQUEST_CHANGES", text.isEmpty { return FakeGitHubJSON.unprocessable(["Body can't be blank"]) }
        if event == nil, pull.reviews.contains(where: { $0.submittedAt == nil && $0.author.lowercased() == user.lowercased() }) {
            return FakeGitHubJSON.unprocessable(["User can only have one pending review per pull request"])
        }
        let commitID = body["commit_id"]?.stringValue ?? head
        let files = try await changedFiles(repo, base: base, head: head)
        var comments: [FakeGitHubReviewComment] = []
        var errors: [String] = []
        let now = Date()
        for item in body["comments"]?.arrayValue ?? [] {
            switch Self.validate(item, files: files) {
            case .failure(let message):
                if !errors.contains(message.text) { errors.append(message.text) }
            case .success(var comment):
                comment.id = 0
                comment.author = user
                comment.commitID = commitID
                comment.createdAt = now
                comments.append(comment)
            }
        }
        guard errors.isEmpty else { return FakeGitHubJSON.unprocessable(errors) }
        let review = try state.withLock { state in
            guard state.repositories[repo.key]?.issues[number]?.pull != nil else { throw FakeGitHubGit.Failure(description: "no pull #\(number)") }
            _ = state.userID(user)
            for index in comments.indices { comments[index].id = state.makeID() }
            let review = FakeGitHubReview(id: state.makeID(), event: event, body: text, commitID: commitID, author: user,
                                          submittedAt: event == nil ? nil : now, comments: comments)
            state.repositories[repo.key]?.issues[number]?.pull?.reviews.append(review)
            return review
        }
        return .json(200, call.json.review(repo, number: number, review))
    }

    struct Rejection: Error { var text: String }

    /// Checks one review comment; returns it with the position and hunk filled in.
    static func validate(_ item: FakeJSON, files: [FakeGitHubFileChange]) -> Result<FakeGitHubReviewComment, Rejection> {
        guard let path = item["path"]?.stringValue, !path.isEmpty else { return .failure(Rejection(text: pathNotResolved)) }
        guard let text = item["body"]?.stringValue, !text.isEmpty else { return .failure(Rejection(text: "Body can't be blank")) }
        guard let file = files.first(where: { $0.filename == path }) else { return .failure(Rejection(text: pathNotResolved)) }
        var comment = FakeGitHubReviewComment(id: 0, path: path, line: nil, side: "RIGHT", startLine: nil, startSide: nil, position: 0,
                                              diffHunk: "", body: text, author: "", commitID: "", inReplyTo: nil, createdAt: Date())
        if let line = item["line"]?.intValue {
            let side = item["side"]?.stringValue ?? "RIGHT"
            guard ["LEFT", "RIGHT"].contains(side), let target = file.commentable(line: line, side: side) else {
                return .failure(Rejection(text: lineNotInDiff))
            }
            comment.line = line
            comment.side = side
            comment.position = target.position
            comment.diffHunk = file.diffHunk(upTo: target)
            if let startLine = item["start_line"]?.intValue {
                let startSide = item["start_side"]?.stringValue ?? side
                guard ["LEFT", "RIGHT"].contains(startSide), let start = file.commentable(line: startLine, side: startSide),
                      start.hunk == target.hunk, start.position < target.position else {
                    return .failure(Rejection(text: startLineNotInHunk))
                }
                comment.startLine = startLine
                comment.startSide = startSide
            }
            return .success(comment)
        }
        if let position = item["position"]?.intValue {
            guard let target = file.line(atPosition: position) else { return .failure(Rejection(text: positionNotResolved)) }
            comment.position = position
            comment.line = target.newNumber ?? target.oldNumber
            comment.side = target.kind == "-" ? "LEFT" : "RIGHT"
            comment.diffHunk = file.diffHunk(upTo: target)
            return .success(comment)
        }
        return .failure(Rejection(text: lineNotInDiff))
    }
}

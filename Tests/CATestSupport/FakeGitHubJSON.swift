import Foundation

/// Renders the ``FakeGitHub``'s objects in GitHub's JSON shapes. Every URL starts at `web`
/// (`http://HOST` from the request's `Host` header); API URLs at `web + "/api/v3"`.
struct FakeGitHubJSON {
    /// `http://HOST`.
    var web: String
    var api: String { web + "/api/v3" }
    /// login (lowercased) → user id.
    var userIDs: [String: Int]

    static let documentation = "https://docs.github.com/rest"

    static func timestamp(_ date: Date) -> FakeJSON {
        .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false)))
    }

    static func timestamp(_ date: Date?) -> FakeJSON {
        date.map { timestamp($0) } ?? .null
    }

    /// A GitHub error body `{"message","documentation_url","status"}` plus `errors` when given.
    static func error(_ status: Int, _ message: String, errors: FakeJSON? = nil) -> FakeGitHubResponse {
        var body: [String: FakeJSON] = [
            "message": .string(message), "documentation_url": .string(documentation), "status": .string(String(status)),
        ]
        if let errors { body["errors"] = errors }
        return .json(status, .object(body))
    }

    /// The 422 "Validation Failed" shape with one error object.
    static func validationFailed(_ error: FakeJSON) -> FakeGitHubResponse {
        Self.error(422, "Validation Failed", errors: [error])
    }

    /// The 422 "Unprocessable Entity" shape with plain string errors.
    static func unprocessable(_ messages: [String]) -> FakeGitHubResponse {
        Self.error(422, "Unprocessable Entity", errors: .array(messages.map { .string($0) }))
    }

    func user(_ login: String) -> FakeJSON {
        let id = userIDs[login.lowercased()] ?? 0
        return [
            "login": .string(login), "id": .number(Double(id)), "node_id": .string("U_fake\(id)"), "type": "User",
            "site_admin": false, "url": .string("\(api)/users/\(login)"), "html_url": .string("\(web)/\(login)"),
            "avatar_url": .string("\(web)/avatars/\(login)"),
        ]
    }

    func repository(_ repo: FakeGitHubRepository, viewer: String?) -> FakeJSON {
        let write = repo.canWrite(viewer)
        let admin = viewer?.lowercased() == repo.owner.lowercased()
        return [
            "id": .number(Double(repo.id)), "node_id": .string("R_fake\(repo.id)"), "name": .string(repo.name),
            "full_name": .string(repo.fullName), "owner": user(repo.owner), "private": .bool(repo.isPrivate),
            "visibility": .string(repo.isPrivate ? "private" : "public"), "fork": false, "archived": false, "disabled": false,
            "description": .null, "default_branch": .string(repo.defaultBranch),
            "html_url": .string("\(web)/\(repo.fullName)"), "url": .string("\(api)/repos/\(repo.fullName)"),
            "clone_url": .string("\(web)/\(repo.fullName).git"), "pulls_url": .string("\(api)/repos/\(repo.fullName)/pulls{/number}"),
            "issues_url": .string("\(api)/repos/\(repo.fullName)/issues{/number}"),
            "has_issues": true, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "permissions": ["admin": .bool(admin), "maintain": .bool(admin), "push": .bool(write), "triage": .bool(write), "pull": true],
        ]
    }

    func branchRef(_ repo: FakeGitHubRepository, branch: String, sha: String) -> FakeJSON {
        [
            "label": .string("\(repo.owner):\(branch)"), "ref": .string(branch), "sha": .string(sha),
            "user": user(repo.owner), "repo": repository(repo, viewer: nil),
        ]
    }

    /// A pull request; `details` holds the counts of the single-PR view when known.
    func pull(_ repo: FakeGitHubRepository, _ issue: FakeGitHubIssue, heads: (base: String, head: String),
              details: (commits: Int, additions: Int, deletions: Int, files: Int)?) -> FakeJSON {
        let pull = issue.pull!
        let url = "\(api)/repos/\(repo.fullName)/pulls/\(issue.number)"
        let html = "\(web)/\(repo.fullName)/pull/\(issue.number)"
        let reviewComments = pull.reviews.filter { $0.submittedAt != nil }.reduce(0) { $0 + $1.comments.count }
        var json: [String: FakeJSON] = [
            "url": .string(url), "id": .number(Double(pull.id)), "node_id": .string("PR_fake\(pull.id)"),
            "html_url": .string(html), "diff_url": .string(html + ".diff"), "patch_url": .string(html + ".patch"),
            "issue_url": .string("\(api)/repos/\(repo.fullName)/issues/\(issue.number)"),
            "comments_url": .string("\(api)/repos/\(repo.fullName)/issues/\(issue.number)/comments"),
            "review_comments_url": .string(url + "/comments"), "commits_url": .string(url + "/commits"),
            "number": .number(Double(issue.number)), "state": .string(issue.state), "locked": false,
            "title": .string(issue.title), "body": issue.body.map { .string($0) } ?? .null, "user": user(issue.author),
            "created_at": Self.timestamp(issue.createdAt), "updated_at": Self.timestamp(issue.updatedAt),
            "closed_at": Self.timestamp(issue.closedAt), "merged_at": .null, "merge_commit_sha": .null,
            "draft": .bool(pull.draft), "labels": [], "assignees": [], "requested_reviewers": [],
            "head": branchRef(repo, branch: pull.head, sha: heads.head),
            "base": branchRef(repo, branch: pull.base, sha: heads.base),
            "author_association": .string(repo.owner.lowercased() == issue.author.lowercased() ? "OWNER" : (repo.canWrite(issue.author) ? "COLLABORATOR" : "CONTRIBUTOR")),
            "maintainer_can_modify": .bool(pull.maintainerCanModify),
        ]
        if let details {
            json["merged"] = false
            json["mergeable"] = issue.state == "open" ? true : .null
            json["mergeable_state"] = issue.state == "open" ? "clean" : "unknown"
            json["comments"] = .number(Double(issue.comments.count))
            json["review_comments"] = .number(Double(reviewComments))
            json["commits"] = .number(Double(details.commits))
            json["additions"] = .number(Double(details.additions))
            json["deletions"] = .number(Double(details.deletions))
            json["changed_files"] = .number(Double(details.files))
        }
        return .object(json)
    }

    func issue(_ repo: FakeGitHubRepository, _ issue: FakeGitHubIssue) -> FakeJSON {
        let url = "\(api)/repos/\(repo.fullName)/issues/\(issue.number)"
        let isPull = issue.pull != nil
        var json: [String: FakeJSON] = [
            "url": .string(url), "id": .number(Double(issue.id)), "node_id": .string("I_fake\(issue.id)"),
            "number": .number(Double(issue.number)), "title": .string(issue.title),
            "body": issue.body.map { .string($0) } ?? .null, "user": user(issue.author), "state": .string(issue.state),
            "locked": false, "labels": [], "assignee": .null, "assignees": [], "milestone": .null,
            "comments": .number(Double(issue.comments.count)), "comments_url": .string(url + "/comments"),
            "repository_url": .string("\(api)/repos/\(repo.fullName)"),
            "html_url": .string("\(web)/\(repo.fullName)/\(isPull ? "pull" : "issues")/\(issue.number)"),
            "created_at": Self.timestamp(issue.createdAt), "updated_at": Self.timestamp(issue.updatedAt),
            "closed_at": Self.timestamp(issue.closedAt), "author_association": "NONE",
        ]
        if isPull {
            let html = "\(web)/\(repo.fullName)/pull/\(issue.number)"
            json["pull_request"] = [
                "url": .string("\(api)/repos/\(repo.fullName)/pulls/\(issue.number)"), "html_url": .string(html),
                "diff_url": .string(html + ".diff"), "patch_url": .string(html + ".patch"), "merged_at": .null,
            ]
        }
        return .object(json)
    }

    func issueComment(_ repo: FakeGitHubRepository, number: Int, _ comment: FakeGitHubIssueComment) -> FakeJSON {
        [
            "id": .number(Double(comment.id)), "node_id": .string("IC_fake\(comment.id)"), "body": .string(comment.body),
            "user": user(comment.author), "created_at": Self.timestamp(comment.createdAt), "updated_at": Self.timestamp(comment.createdAt),
            "url": .string("\(api)/repos/\(repo.fullName)/issues/comments/\(comment.id)"),
            "html_url": .string("\(web)/\(repo.fullName)/issues/\(number)#issuecomment-\(comment.id)"),
            "issue_url": .string("\(api)/repos/\(repo.fullName)/issues/\(number)"), "author_association": "NONE",
        ]
    }

    func review(_ repo: FakeGitHubRepository, number: Int, _ review: FakeGitHubReview) -> FakeJSON {
        var json: [String: FakeJSON] = [
            "id": .number(Double(review.id)), "node_id": .string("PRR_fake\(review.id)"), "user": user(review.author),
            "body": .string(review.body), "state": .string(review.state), "commit_id": .string(review.commitID),
            "html_url": .string("\(web)/\(repo.fullName)/pull/\(number)#pullrequestreview-\(review.id)"),
            "pull_request_url": .string("\(api)/repos/\(repo.fullName)/pulls/\(number)"), "author_association": "NONE",
        ]
        if let submitted = review.submittedAt { json["submitted_at"] = Self.timestamp(submitted) }
        return .object(json)
    }

    func reviewComment(_ repo: FakeGitHubRepository, number: Int, reviewID: Int, _ comment: FakeGitHubReviewComment) -> FakeJSON {
        let int: (Int?) -> FakeJSON = { $0.map { .number(Double($0)) } ?? .null }
        var json: [String: FakeJSON] = [
            "id": .number(Double(comment.id)), "node_id": .string("PRRC_fake\(comment.id)"), "pull_request_review_id": .number(Double(reviewID)),
            "path": .string(comment.path), "line": int(comment.line), "original_line": int(comment.line), "side": .string(comment.side),
            "start_line": int(comment.startLine), "original_start_line": int(comment.startLine),
            "start_side": comment.startSide.map { .string($0) } ?? .null,
            "position": .number(Double(comment.position)), "original_position": .number(Double(comment.position)),
            "commit_id": .string(comment.commitID), "original_commit_id": .string(comment.commitID),
            "diff_hunk": .string(comment.diffHunk), "body": .string(comment.body), "user": user(comment.author),
            "subject_type": "line", "created_at": Self.timestamp(comment.createdAt), "updated_at": Self.timestamp(comment.createdAt),
            "url": .string("\(api)/repos/\(repo.fullName)/pulls/comments/\(comment.id)"),
            "html_url": .string("\(web)/\(repo.fullName)/pull/\(number)#discussion_r\(comment.id)"),
            "pull_request_url": .string("\(api)/repos/\(repo.fullName)/pulls/\(number)"), "author_association": "NONE",
        ]
        if let reply = comment.inReplyTo { json["in_reply_to_id"] = .number(Double(reply)) }
        return .object(json)
    }

    func file(_ repo: FakeGitHubRepository, headSHA: String, _ change: FakeGitHubFileChange) -> FakeJSON {
        var json: [String: FakeJSON] = [
            "sha": .string(change.sha), "filename": .string(change.filename), "status": .string(change.status),
            "additions": .number(Double(change.additions)), "deletions": .number(Double(change.deletions)),
            "changes": .number(Double(change.changes)),
            "blob_url": .string("\(web)/\(repo.fullName)/blob/\(headSHA)/\(change.filename)"),
            "raw_url": .string("\(web)/\(repo.fullName)/raw/\(headSHA)/\(change.filename)"),
            "contents_url": .string("\(api)/repos/\(repo.fullName)/contents/\(change.filename)?ref=\(headSHA)"),
        ]
        if let patch = change.patch { json["patch"] = .string(patch) }
        if let previous = change.previousFilename { json["previous_filename"] = .string(previous) }
        return .object(json)
    }
}

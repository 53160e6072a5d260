import Foundation

/// The REST endpoints of the ``FakeGitHub`` under `/api/v3`.
extension FakeGitHubService {
    static let userAgentRequired = "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n"

    /// One parsed API request.
    struct Call {
        var request: HTTPRequest
        var auth: Auth
        var json: FakeGitHubJSON
        /// The path after `/api/v3`, split at `/`.
        var parts: [String]
        var subpath: String
    }

    func api(_ request: HTTPRequest, auth: Auth) async -> FakeGitHubResponse {
        guard let agent = request.header("user-agent"), !agent.isEmpty else {
            return .text(403, Self.userAgentRequired)
        }
        let subpath = String(request.path.dropFirst("/api/v3".count))
        let isRateLimitCall = subpath == "/rate_limit"
        if auth.invalid {
            var response = FakeGitHubJSON.error(401, "Bad credentials")
            response.headers += consumeRateLimit(counts: false).headers
            return response
        }
        let (rateHeaders, limited) = consumeRateLimit(counts: !isRateLimitCall)
        var response: FakeGitHubResponse
        if let limited {
            response = limited
        } else if let version = request.header("x-github-api-version"), !["2022-11-28", "2026-03-10"].contains(version) {
            response = FakeGitHubJSON.error(400, "Unsupported 'X-GitHub-Api-Version' header: \(version). Supported versions are: 2022-11-28, 2026-03-10")
        } else if ["POST", "PATCH", "PUT"].contains(request.method), request.body.count > Self.maxJSONBody {
            response = FakeGitHubJSON.error(413, "Payload too large")
        } else {
            let host = request.header("host") ?? "127.0.0.1"
            let ids = state.withLock { $0.userIDs }
            let parts = subpath.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
            let call = Call(request: request, auth: auth, json: FakeGitHubJSON(web: "http://\(host)", userIDs: ids), parts: parts, subpath: subpath)
            do {
                response = try await route(call)
            } catch {
                response = FakeGitHubJSON.error(500, "Server Error: \(error)")
            }
        }
        response.headers += rateHeaders + [
            ("x-github-media-type", "github.v3; format=json"), ("x-github-api-version-selected", "2022-11-28"),
            ("x-github-request-id", UUID().uuidString), ("x-github-enterprise-version", "enterprise-server@3.14.0"),
        ]
        return response
    }

    private func route(_ call: Call) async throws -> FakeGitHubResponse {
        let parts = call.parts, method = call.request.method
        if parts.contains("") { return notFound }
        switch (method, parts.count) {
        case ("GET", 1) where parts == ["user"]:
            guard let user = call.auth.user else { return FakeGitHubJSON.error(401, "Requires authentication") }
            return .json(200, call.json.user(user))
        case ("GET", 1) where parts == ["rate_limit"]:
            let snapshot = rateSnapshot()
            let core: FakeJSON = ["limit": .number(Double(FakeGitHubRateLimit.limit)), "remaining": .number(Double(snapshot.remaining)),
                                  "used": .number(Double(snapshot.used)), "reset": .number(Double(snapshot.reset)), "resource": "core"]
            var other = core.objectValue!
            other["remaining"] = .number(Double(FakeGitHubRateLimit.limit)); other["used"] = 0
            other["resource"] = "search"
            let search = FakeJSON.object(other)
            other["resource"] = "graphql"
            return .json(200, ["resources": ["core": core, "search": search, "graphql": .object(other)], "rate": core])
        default:
            break
        }
        guard parts.count >= 3, parts[0] == "repos" else { return notFound }
        guard let repo = repository(parts[1], parts[2]), repo.canRead(call.auth.user) else { return notFound }
        let rest = Array(parts.dropFirst(3))
        switch (method, rest.first) {
        case ("GET", nil):
            return .json(200, call.json.repository(repo, viewer: call.auth.user))
        case ("GET", "branches") where rest.count >= 2:
            return try await branch(call, repo, name: rest.dropFirst().joined(separator: "/"))
        default:
            break
        }
        if ["POST", "PATCH"].contains(method), call.auth.user == nil {
            return FakeGitHubJSON.error(401, "Requires authentication")
        }
        var body: FakeJSON = [:]
        if ["POST", "PATCH"].contains(method) {
            guard let parsed = try? FakeJSON.parse(call.request.body.isEmpty ? Data("{}".utf8) : call.request.body) else {
                return FakeGitHubJSON.error(400, "Problems parsing JSON")
            }
            guard parsed.objectValue != nil else { return FakeGitHubJSON.error(400, "Body should be a JSON object") }
            body = parsed
        }
        let number = rest.count >= 2 ? Int(rest[1]) : nil
        switch (method, rest.first, rest.count) {
        case ("GET", "pulls", 1): return try await listPulls(call, repo)
        case ("POST", "pulls", 1): return try await createPull(call, repo, body)
        case (_, "pulls", _) where number != nil && repo.issues[number!]?.pull != nil:
            return try await pullRoute(call, repo, number: number!, rest: Array(rest.dropFirst(2)), body: body)
        case (_, "issues", _) where number != nil && repo.issues[number!] != nil:
            return try await issueRoute(call, repo, number: number!, rest: Array(rest.dropFirst(2)), body: body)
        default:
            return notFound
        }
    }

    var notFound: FakeGitHubResponse { FakeGitHubJSON.error(404, "Not Found") }

    // MARK: - Branches

    private func branch(_ call: Call, _ repo: FakeGitHubRepository, name: String) async throws -> FakeGitHubResponse {
        let refs = try await syncPullRefs(repo)
        guard let sha = refs["refs/heads/\(name)"] else { return FakeGitHubJSON.error(404, "Branch not found") }
        let api = "\(call.json.api)/repos/\(repo.fullName)"
        return .json(200, [
            "name": .string(name), "protected": false,
            "commit": ["sha": .string(sha), "url": .string("\(api)/commits/\(sha)")],
            "_links": ["self": .string("\(api)/branches/\(name)"), "html": .string("\(call.json.web)/\(repo.fullName)/tree/\(name)")],
        ])
    }

    // MARK: - Pull requests

    /// The base and head commits of a pull request (the head branch, or `refs/pull/N/head` once it is gone).
    func heads(_ pull: FakeGitHubPullRequest, refs: [String: String]) -> (base: String, head: String) {
        let head = refs["refs/heads/\(pull.head)"] ?? refs["refs/pull/\(pull.number)/head"] ?? ""
        return (refs["refs/heads/\(pull.base)"] ?? "", head)
    }

    private func listPulls(_ call: Call, _ repo: FakeGitHubRepository) async throws -> FakeGitHubResponse {
        let refs = try await syncPullRefs(repo)
        let query = call.request.query
        let wantedState = query["state"] ?? "open"
        var headOwner: String?, headBranch: String?
        if let head = query["head"] {
            if let colon = head.firstIndex(of: ":") {
                headOwner = String(head[..<colon]); headBranch = String(head[head.index(after: colon)...])
            } else {
                headOwner = head
            }
        }
        let pulls = repo.issues.values.filter { issue in
            guard let pull = issue.pull else { return false }
            if wantedState != "all", issue.state != wantedState { return false }
            if let headOwner, headOwner.lowercased() != repo.owner.lowercased() { return false }
            if let headBranch, headBranch != pull.head { return false }
            if let base = query["base"], base != pull.base { return false }
            return true
        }.sorted { query["direction"] == "asc" ? $0.number < $1.number : $0.number > $1.number }
        let items = pulls.map { call.json.pull(repo, $0, heads: heads($0.pull!, refs: refs), details: nil) }
        return paginate(items, call)
    }

    private func createPull(_ call: Call, _ repo: FakeGitHubRepository, _ body: FakeJSON) async throws -> FakeGitHubResponse {
        func missing(_ field: String) -> FakeGitHubResponse {
            FakeGitHubJSON.validationFailed(["resource": "PullRequest", "code": "missing_field", "field": .string(field)])
        }
        guard var head = body["head"]?.stringValue, !head.isEmpty else { return missing("head") }
        guard let base = body["base"]?.stringValue, !base.isEmpty else { return missing("base") }
        guard let title = body["title"]?.stringValue, !title.isEmpty else { return missing("title") }
        if let colon = head.firstIndex(of: ":") {
            guard head[..<colon].lowercased() == repo.owner.lowercased() else {
                return FakeGitHubJSON.validationFailed(["resource": "PullRequest", "field": "head", "code": "invalid"])
            }
            head = String(head[head.index(after: colon)...])
        }
        let refs = try await syncPullRefs(repo)
        guard let headSHA = refs["refs/heads/\(head)"] else {
            return FakeGitHubJSON.validationFailed(["resource": "PullRequest", "field": "head", "code": "invalid"])
        }
        guard let baseSHA = refs["refs/heads/\(base)"] else {
            return FakeGitHubJSON.validationFailed(["resource": "PullRequest", "field": "base", "code": "invalid"])
        }
        if repo.issues.values.contains(where: { $0.state == "open" && $0.pull?.head == head && $0.pull?.base == base }) {
            return FakeGitHubJSON.validationFailed(["resource": "PullRequest", "code": "custom",
                                                    "message": .string("A pull request already exists for \(repo.owner):\(head).")])
        }
        let dir = gitDir(repo)
        let mergeBase = try await FakeGitHubGit.run(["merge-base", baseSHA, headSHA], in: dir)
        guard mergeBase.status == 0 else {
            return FakeGitHubJSON.validationFailed(["resource": "PullRequest", "code": "custom",
                                                    "message": .string("The \(head) branch has no history in common with \(base)")])
        }
        let ahead = try await FakeGitHubGit.output(["rev-list", "--count", "\(baseSHA)..\(headSHA)"], in: dir)
        if Int(ahead.trimmingCharacters(in: .whitespacesAndNewlines)) == 0 {
            return FakeGitHubJSON.validationFailed(["resource": "PullRequest", "code": "custom",
                                                    "message": .string("No commits between \(base) and \(head)")])
        }
        let number = try addPull(repo: repo, title: title, body: body["body"]?.stringValue, head: head, base: base,
                                 draft: body["draft"]?.boolValue ?? false, author: call.auth.user!,
                                 maintainerCanModify: body["maintainer_can_modify"]?.boolValue ?? true)
        let updated = repository(repo.owner, repo.name)!
        let refsAfter = try await syncPullRefs(updated)
        let issue = updated.issues[number]!
        let json = call.json.pull(updated, issue, heads: heads(issue.pull!, refs: refsAfter), details: try await details(updated, issue.pull!, refs: refsAfter))
        return .json(201, json, headers: [("location", "\(call.json.api)/repos/\(repo.fullName)/pulls/\(number)")])
    }

    /// Records a new pull request and returns its number.
    func addPull(repo: FakeGitHubRepository, title: String, body: String?, head: String, base: String, draft: Bool,
                 author: String, maintainerCanModify: Bool = true) throws -> Int {
        try state.withLock { state in
            guard var stored = state.repositories[repo.key] else { throw FakeGitHubGit.Failure(description: "no repository \(repo.fullName)") }
            _ = state.userID(author)
            let number = stored.nextNumber
            stored.nextNumber += 1
            let now = Date()
            let pull = FakeGitHubPullRequest(number: number, id: state.makeID(), title: title, body: body, head: head, base: base,
                                             draft: draft, author: author, state: "open", maintainerCanModify: maintainerCanModify)
            stored.issues[number] = FakeGitHubIssue(number: number, id: state.makeID(), title: title, body: body, author: author,
                                                    state: "open", createdAt: now, updatedAt: now, pull: pull)
            state.repositories[repo.key] = stored
            return number
        }
    }

    /// The counts of the single pull request view.
    private func details(_ repo: FakeGitHubRepository, _ pull: FakeGitHubPullRequest, refs: [String: String]) async throws
        -> (commits: Int, additions: Int, deletions: Int, files: Int) {
        let (base, head) = heads(pull, refs: refs)
        guard !base.isEmpty, !head.isEmpty else { return (0, 0, 0, 0) }
        let files = try await changedFiles(repo, base: base, head: head)
        let commits = try await FakeGitHubGit.output(["rev-list", "--count", "\(base)..\(head)"], in: gitDir(repo))
        return (Int(commits.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, files.reduce(0) { $0 + $1.additions },
                files.reduce(0) { $0 + $1.deletions }, files.count)
    }

    /// The files of `base...head`, cached.
    func changedFiles(_ repo: FakeGitHubRepository, base: String, head: String) async throws -> [FakeGitHubFileChange] {
        let key = "\(repo.key) \(base)...\(head)"
        if let cached = filesCache.withLock({ $0[key] }) { return cached }
        let files = try await FakeGitHubDiff.files(base: base, head: head, in: gitDir(repo))
        filesCache.withLock { cache in
            if cache.count > 64 { cache.removeAll() }
            cache[key] = files
        }
        return files
    }

    private func pullRoute(_ call: Call, _ repo: FakeGitHubRepository, number: Int, rest: [String], body: FakeJSON) async throws -> FakeGitHubResponse {
        let refs = try await syncPullRefs(repo)
        let issue = repo.issues[number]!
        let pull = issue.pull!
        let (base, head) = heads(pull, refs: refs)
        switch (call.request.method, rest) {
        case ("GET", []):
            let accept = call.request.header("accept")?.lowercased() ?? ""
            if accept.contains("diff") || accept.contains("patch") {
                let dir = gitDir(repo)
                let text = accept.contains("diff")
                    ? try await FakeGitHubDiff.diffText(base: base, head: head, in: dir)
                    : try await FakeGitHubGit.output(["format-patch", "--stdout", "\(base)..\(head)"], in: dir)
                return .text(200, text, headers: [("x-github-media-type", "github.v3; param=\(accept.contains("diff") ? "diff" : "patch")")])
            }
            return .json(200, call.json.pull(repo, issue, heads: (base, head), details: try await details(repo, pull, refs: refs)))
        case ("PATCH", []):
            return try await updatePull(call, repo, number: number, body: body, refs: refs)
        case ("GET", ["files"]):
            let files = try await changedFiles(repo, base: base, head: head)
            return paginate(files.prefix(3000).map { call.json.file(repo, headSHA: head, $0) }, call)
        case ("GET", ["comments"]):
            let items = pull.reviews.filter { $0.submittedAt != nil }.flatMap { review in
                review.comments.map { call.json.reviewComment(repo, number: number, reviewID: review.id, $0) }
            }
            return paginate(items, call)
        case ("GET", ["reviews"]):
            let visible = pull.reviews.filter { $0.submittedAt != nil || $0.author.lowercased() == call.auth.user?.lowercased() }
            return paginate(visible.map { call.json.review(repo, number: number, $0) }, call)
        case ("POST", ["reviews"]):
            return try await createReview(call, repo, number: number, body: body, base: base, head: head)
        default:
            return notFound
        }
    }

    private func updatePull(_ call: Call, _ repo: FakeGitHubRepository, number: Int, body: FakeJSON, refs: [String: String]) async throws -> FakeGitHubResponse {
        if let base = body["base"]?.stringValue, refs["refs/heads/\(base)"] == nil {
            return FakeGitHubJSON.validationFailed(["resource": "PullRequest", "field": "base", "code": "invalid"])
        }
        if let newState = body["state"]?.stringValue, !["open", "closed"].contains(newState) {
            return FakeGitHubJSON.validationFailed(["resource": "PullRequest", "field": "state", "code": "invalid"])
        }
        state.withLock { state in
            guard var issue = state.repositories[repo.key]?.issues[number], var pull = issue.pull else { return }
            if let title = body["title"]?.stringValue { issue.title = title; pull.title = title }
            if let text = body["body"]?.stringValue { issue.body = text; pull.body = text }
            if let base = body["base"]?.stringValue { pull.base = base }
            if let flag = body["maintainer_can_modify"]?.boolValue { pull.maintainerCanModify = flag }
            if let newState = body["state"]?.stringValue, newState != issue.state {
                issue.state = newState; pull.state = newState
                issue.closedAt = newState == "closed" ? Date() : nil
            }
            issue.updatedAt = Date()
            issue.pull = pull
            state.repositories[repo.key]?.issues[number] = issue
        }
        let updated = repository(repo.owner, repo.name)!
        let issue = updated.issues[number]!
        return .json(200, call.json.pull(updated, issue, heads: heads(issue.pull!, refs: refs), details: try await details(updated, issue.pull!, refs: refs)))
    }

    // MARK: - Issues

    private func issueRoute(_ call: Call, _ repo: FakeGitHubRepository, number: Int, rest: [String], body: FakeJSON) async throws -> FakeGitHubResponse {
        let issue = repo.issues[number]!
        switch (call.request.method, rest) {
        case ("GET", []):
            return .json(200, call.json.issue(repo, issue))
        case ("GET", ["comments"]):
            return paginate(issue.comments.map { call.json.issueComment(repo, number: number, $0) }, call)
        case ("POST", ["comments"]):
            guard let text = body["body"]?.stringValue, !text.isEmpty else {
                return FakeGitHubJSON.validationFailed(["resource": "IssueComment", "code": "missing_field", "field": "body"])
            }
            let comment = try addIssueComment(repo: repo, number: number, body: text, author: call.auth.user!)
            return .json(201, call.json.issueComment(repo, number: number, comment),
                         headers: [("location", "\(call.json.api)/repos/\(repo.fullName)/issues/comments/\(comment.id)")])
        default:
            return notFound
        }
    }

    /// Records an issue comment.
    func addIssueComment(repo: FakeGitHubRepository, number: Int, body: String, author: String) throws -> FakeGitHubIssueComment {
        try state.withLock { state in
            guard state.repositories[repo.key]?.issues[number] != nil else { throw FakeGitHubGit.Failure(description: "no issue #\(number)") }
            _ = state.userID(author)
            let comment = FakeGitHubIssueComment(id: state.makeID(), body: body, author: author, createdAt: Date())
            state.repositories[repo.key]?.issues[number]?.comments.append(comment)
            state.repositories[repo.key]?.issues[number]?.updatedAt = Date()
            return comment
        }
    }

    // MARK: - Pagination

    /// One page of `items` (`per_page` ≤ 100, default 30; `page` from 1) with a `link` header
    /// whose URLs keep the request's other query parameters.
    func paginate(_ items: [FakeJSON], _ call: Call) -> FakeGitHubResponse {
        let perPage = min(100, max(1, Int(call.request.query["per_page"] ?? "") ?? 30))
        let page = max(1, Int(call.request.query["page"] ?? "") ?? 1)
        let start = min(items.count, (page - 1) * perPage)
        let slice = Array(items[start..<min(items.count, start + perPage)])
        let last = max(1, (items.count + perPage - 1) / perPage)
        let kept = call.request.rawQueryItems.filter { $0.name != "page" }.map(\.description)
        func url(_ number: Int) -> String {
            "\(call.json.api)\(call.subpath)?" + (kept + ["page=\(number)"]).joined(separator: "&")
        }
        var links: [String] = []
        if page < last {
            links.append("<\(url(page + 1))>; rel=\"next\"")
            links.append("<\(url(last))>; rel=\"last\"")
        }
        if page > 1 {
            links.append("<\(url(1))>; rel=\"first\"")
            links.append("<\(url(min(page - 1, last)))>; rel=\"prev\"")
        }
        return .json(200, .array(slice), headers: links.isEmpty ? [] : [("link", links.joined(separator: ", "))])
    }
}

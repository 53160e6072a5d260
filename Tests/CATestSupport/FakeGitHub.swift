import Foundation

/// A protocol-faithful fake GitHub (Enterprise Server style) on one loopback port, for tests.
///
/// - git smart HTTP at `/OWNER/NAME(.git)/…`, served by the real `git http-backend`: token auth
///   (Basic with the token as password or user name, `Bearer`, `token`), `401` with
///   `WWW-Authenticate: Basic realm="GitHub"`, `404 Repository not found.`; `refs/pull/N/head`
///   follows each pull request's head branch and cannot be pushed to.
/// - the REST API under `/api/v3` (users, repositories, branches, pull requests with files, diff,
///   reviews and review comments, issues and issue comments, rate limit), with GitHub's error
///   bodies, `link` pagination and `x-ratelimit-*` headers; URLs follow the request's `Host`.
///
/// As on github.com, a public repository can be fetched without credentials; pushing, and any
/// access to a private repository, needs a token (a user without access gets `404`, like an
/// unknown repository). Request bodies are capped (64 MiB for git, 1 MiB for REST JSON).
///
/// Tests seed and inspect it through this Swift API: tokens, repositories, commits, pull requests,
/// issues, the request log (never the token), and armed rate limits. Outside clients (the
/// PyGithub cross-check) arm the rate limits with `POST /_fake/rate-limit/primary?after=N&reset=S`
/// and `POST /_fake/rate-limit/secondary?count=N&retry_after=S`, off GitHub's paths.
///
/// ```swift
/// let github = try FakeGitHub()
/// try await github.start()
/// github.addToken("ghp_test", user: "octo")
/// try await github.createRepository(owner: "octo", name: "demo", files: ["README.md": "# demo\n"])
/// // GITHUB_API_URL=github.apiURL, GITHUB_SERVER_URL=github.serverURL
/// try await github.stop()
/// ```
public final class FakeGitHub: Sendable {
    private let service: FakeGitHubService
    private let server: LoopbackHTTPServer

    /// Creates the fake and its temporary folder of bare repositories, to listen on `port` (0, the
    /// default, picks an ephemeral one). Nothing is bound until ``start()``.
    public init(port: Int = 0) throws {
        let service = try FakeGitHubService()
        self.service = service
        self.server = LoopbackHTTPServer(port: port, maxBodyBytes: FakeGitHubService.maxGitBody) { request, writer in
            await service.handle(request, writer)
        }
    }

    /// Finds `git http-backend` and binds `127.0.0.1` on an ephemeral port.
    public func start() async throws {
        let path = try await FakeGitHubGit.httpBackendPath()
        service.backendPath.withLock { $0 = path }
        try await server.start()
    }

    /// Stops serving and removes the temporary folder.
    public func stop() async throws {
        try await server.stop()
        try? FileManager.default.removeItem(at: service.root)
    }

    /// The bound port.
    public var port: Int { server.port }
    /// `http://127.0.0.1:PORT` (`GITHUB_SERVER_URL`; clone URLs are `serverURL/OWNER/NAME.git`).
    public var serverURL: URL { server.baseURL }
    /// `http://127.0.0.1:PORT/api/v3` (`GITHUB_API_URL`).
    public var apiURL: URL { server.baseURL.appendingPathComponent("api/v3") }

    // MARK: - Seeding

    /// Makes `token` authenticate as `user`.
    public func addToken(_ token: String, user: String) {
        service.state.withLock { state in
            state.tokens[token] = user
            _ = state.userID(user)
        }
    }

    /// Creates `owner/name` as a bare repository with `files` committed on `defaultBranch`
    /// (no commit when `files` is empty). `collaborators` get push access besides the owner.
    public func createRepository(owner: String, name: String, isPrivate: Bool = false, defaultBranch: String = "main",
                                 files: [String: String] = ["README.md": "# demo\n"], collaborators: [String] = []) async throws {
        let repo = try service.state.withLock { state in
            let key = "\(owner)/\(name)".lowercased()
            guard state.repositories[key] == nil else { throw FakeGitHubGit.Failure(description: "\(owner)/\(name) exists") }
            _ = state.userID(owner)
            collaborators.forEach { _ = state.userID($0) }
            let repo = FakeGitHubRepository(owner: owner, name: name, id: state.makeID(), isPrivate: isPrivate,
                                            defaultBranch: defaultBranch, collaborators: Set(collaborators.map { $0.lowercased() }))
            state.repositories[key] = repo
            return repo
        }
        let dir = service.gitDir(repo)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try await FakeGitHubGit.output(["init", "-q", "--bare", "-b", defaultBranch, dir], in: service.root.path)
        for (key, value) in [("uploadpack.allowAnySHA1InWant", "true"), ("receive.hideRefs", "refs/pull"),
                             ("http.receivepack", "true"), ("gc.auto", "0")] {
            try await FakeGitHubGit.output(["config", key, value], in: dir)
        }
        if !files.isEmpty {
            try await commit(owner: owner, name: name, branch: defaultBranch, files: files, message: "Initial commit")
        }
    }

    /// Gives `user` push access to `owner/name`.
    public func addCollaborator(owner: String, name: String, user: String) {
        service.state.withLock { state in
            _ = state.userID(user)
            state.repositories["\(owner)/\(name)".lowercased()]?.collaborators.insert(user.lowercased())
        }
    }

    /// Commits `files` (path → content; `nil` deletes) on `branch` and returns the new commit.
    /// A missing branch starts at `from` (default: the default branch; an empty repository gets a root commit).
    @discardableResult
    public func commit(owner: String, name: String, branch: String, files: [String: String?], message: String = "Update",
                       from: String? = nil) async throws -> String {
        let repo = try require(owner, name)
        let dir = service.gitDir(repo)
        var parent = try await FakeGitHubGit.resolve("refs/heads/\(branch)", in: dir)
        if parent == nil { parent = try await FakeGitHubGit.resolve(from ?? "refs/heads/\(repo.defaultBranch)", in: dir) }
        let index = service.spool.appendingPathComponent("index-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: index) }
        let env = ["GIT_INDEX_FILE": index]
        try await FakeGitHubGit.output(parent.map { ["read-tree", $0] } ?? ["read-tree", "--empty"], in: dir, env: env)
        // One hash-object for all blobs (--stdin-paths), one update-index for all entries (--index-info).
        let sorted = files.sorted { $0.key < $1.key }
        var blobFiles: [String] = []
        defer { blobFiles.forEach { try? FileManager.default.removeItem(atPath: $0) } }
        for case (_, let content?) in sorted {
            blobFiles.append(try FakeGitHubGit.temporaryFile(Data(content.utf8), in: service.spool))
        }
        var blobs: [String] = []
        if !blobFiles.isEmpty {
            let list = try FakeGitHubGit.temporaryFile(Data((blobFiles.joined(separator: "\n") + "\n").utf8), in: service.spool)
            defer { try? FileManager.default.removeItem(atPath: list) }
            blobs = try await FakeGitHubGit.output(["hash-object", "-w", "--stdin-paths"], in: dir, stdinFile: list)
                .split(separator: "\n").map(String.init)
        }
        guard blobs.count == blobFiles.count else { throw FakeGitHubGit.Failure(description: "hash-object gave \(blobs.count) of \(blobFiles.count) blobs") }
        var entries = ""
        var nextBlob = blobs.makeIterator()
        for (path, content) in sorted {
            if content != nil, let blob = nextBlob.next() {
                entries += "100644 \(blob)\t\(path)\n"
            } else {
                entries += "0 \(String(repeating: "0", count: 40))\t\(path)\n"
            }
        }
        let entryFile = try FakeGitHubGit.temporaryFile(Data(entries.utf8), in: service.spool)
        defer { try? FileManager.default.removeItem(atPath: entryFile) }
        try await FakeGitHubGit.output(["update-index", "--index-info"], in: dir, env: env, stdinFile: entryFile)
        let tree = try await FakeGitHubGit.output(["write-tree"], in: dir, env: env).trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try await FakeGitHubGit.output(["commit-tree", tree, "-m", message] + (parent.map { ["-p", $0] } ?? []), in: dir)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try await FakeGitHubGit.output(["update-ref", "refs/heads/\(branch)", commit], in: dir)
        return commit
    }

    /// The commit `branch` points at, or `nil` when it does not exist.
    public func branchHead(owner: String, name: String, branch: String) async throws -> String? {
        let repo = try require(owner, name)
        return try await FakeGitHubGit.resolve("refs/heads/\(branch)", in: service.gitDir(repo))
    }

    /// Opens a pull request from `head` into `base` (default: the default branch) authored by
    /// `author`, without the REST checks, and returns its number.
    public func openPullRequest(owner: String, name: String, title: String, body: String? = nil, head: String, base: String? = nil,
                                author: String, draft: Bool = false) async throws -> Int {
        let repo = try require(owner, name)
        let number = try service.addPull(repo: repo, title: title, body: body, head: head, base: base ?? repo.defaultBranch,
                                         draft: draft, author: author)
        try await service.syncPullRefs(try require(owner, name))
        return number
    }

    /// Creates an issue with `comments` (author, body) and returns its number.
    public func createIssue(owner: String, name: String, title: String, body: String? = nil, author: String,
                            comments: [(author: String, body: String)] = []) throws -> Int {
        let repo = try require(owner, name)
        let number = service.state.withLock { state in
            _ = state.userID(author)
            let number = state.repositories[repo.key]!.nextNumber
            state.repositories[repo.key]!.nextNumber += 1
            state.repositories[repo.key]!.issues[number] = FakeGitHubIssue(
                number: number, id: state.makeID(), title: title, body: body, author: author, state: "open",
                createdAt: Date(), updatedAt: Date())
            return number
        }
        for comment in comments {
            _ = try service.addIssueComment(repo: repo, number: number, body: comment.body, author: comment.author)
        }
        return number
    }

    /// Adds an issue comment and returns its id.
    @discardableResult
    public func addIssueComment(owner: String, name: String, number: Int, body: String, author: String) throws -> Int {
        try service.addIssueComment(repo: require(owner, name), number: number, body: body, author: author).id
    }

    /// Adds an existing review (event `COMMENT`) by `author` holding one inline comment on
    /// `path`/`line`/`side`, checked against the diff like the REST endpoint does; returns the comment id.
    @discardableResult
    public func addReviewComment(owner: String, name: String, number: Int, path: String, line: Int, side: String = "RIGHT",
                                 body: String, author: String) async throws -> Int {
        let repo = try require(owner, name)
        guard let pull = repo.issues[number]?.pull else { throw FakeGitHubGit.Failure(description: "no pull request #\(number)") }
        let refs = try await service.syncPullRefs(repo)
        let (base, head) = service.heads(pull, refs: refs)
        let files = try await service.changedFiles(repo, base: base, head: head)
        var comment: FakeGitHubReviewComment
        switch FakeGitHubService.validate(["path": .string(path), "line": .number(Double(line)), "side": .string(side), "body": .string(body)], files: files) {
        case .failure(let rejection): throw FakeGitHubGit.Failure(description: rejection.text)
        case .success(let valid): comment = valid
        }
        return service.state.withLock { state in
            _ = state.userID(author)
            comment.id = state.makeID()
            comment.author = author
            comment.commitID = head
            let review = FakeGitHubReview(id: state.makeID(), event: "COMMENT", body: "", commitID: head, author: author,
                                          submittedAt: Date(), comments: [comment])
            state.repositories[repo.key]?.issues[number]?.pull?.reviews.append(review)
            return comment.id
        }
    }

    // MARK: - Reading back

    /// The pull requests of `owner/name`, by number.
    public func pullRequests(owner: String, name: String) -> [FakeGitHubPullRequest] {
        let issues = service.repository(owner, name)?.issues.values ?? [:].values
        return issues.compactMap(\.pull).sorted { $0.number < $1.number }
    }

    /// One pull request, or `nil`.
    public func pullRequest(owner: String, name: String, number: Int) -> FakeGitHubPullRequest? {
        service.repository(owner, name)?.issues[number]?.pull
    }

    /// The reviews of a pull request (pending ones included), oldest first.
    public func reviews(owner: String, name: String, number: Int) -> [FakeGitHubReview] {
        pullRequest(owner: owner, name: name, number: number)?.reviews ?? []
    }

    /// An issue (or a pull request's issue half), or `nil`.
    public func issue(owner: String, name: String, number: Int) -> FakeGitHubIssue? {
        service.repository(owner, name)?.issues[number]
    }

    /// The comments of an issue or pull request conversation, oldest first.
    public func issueComments(owner: String, name: String, number: Int) -> [FakeGitHubIssueComment] {
        issue(owner: owner, name: name, number: number)?.comments ?? []
    }

    /// Every request served so far, oldest first (no token, no `Authorization` value).
    public var requestLog: [FakeGitHubRequestRecord] {
        service.state.withLock { $0.log }
    }

    /// The bare repository folder of `owner/name`, to inspect with git.
    public func gitDirectory(owner: String, name: String) throws -> URL {
        URL(fileURLWithPath: service.gitDir(try require(owner, name)))
    }

    // MARK: - Faults

    /// Makes the `requests`-th API request from now (1 = the next one) and every one after it
    /// until `x-ratelimit-reset` (`seconds` after the trip) get `403` with remaining 0 and
    /// `API rate limit exceeded for user ID 1.`; then requests succeed again. `GET /rate_limit`
    /// does not count.
    public func armPrimaryRateLimit(after requests: Int, resetAfter seconds: Int) {
        service.armPrimary(after: requests, resetAfter: seconds)
    }

    /// Makes the next `count` API requests get `403` with `Retry-After: retryAfter` and
    /// `You have exceeded a secondary rate limit…`.
    public func armSecondaryRateLimit(count: Int, retryAfter: Int) {
        service.state.withLock {
            $0.rateLimit.secondaryCount = max(0, count)
            $0.rateLimit.secondaryRetryAfter = max(0, retryAfter)
        }
    }

    private func require(_ owner: String, _ name: String) throws -> FakeGitHubRepository {
        guard let repo = service.repository(owner, name) else { throw FakeGitHubGit.Failure(description: "no repository \(owner)/\(name)") }
        return repo
    }
}

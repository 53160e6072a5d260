import AsyncHTTPClient
import CATestSupport
import Foundation
import Synchronization
import Testing
@testable import GitHubClient

/// Narrow wire tests: a scripted loopback server answers each request in turn, and the requests are recorded.
@Suite("GitHubAPI on the wire")
struct GitHubAPIWireTests {
    /// Requests seen by a server, and the sleeps the retry policy asked for.
    final class Recorder: Sendable {
        private let requests = Mutex<[HTTPRequest]>([])
        private let sleeps = Mutex<[Duration]>([])

        func record(_ request: HTTPRequest) -> Int {
            requests.withLock { $0.append(request); return $0.count }
        }

        var all: [HTTPRequest] { requests.withLock { $0 } }
        var waits: [Duration] { sleeps.withLock { $0 } }

        func policy(maximumWait: Duration = .seconds(5), attempts: Int = 3) -> GitHubRetryPolicy {
            GitHubRetryPolicy(maximumWait: maximumWait, maximumAttempts: attempts, initialBackoff: .milliseconds(10)) { duration in
                self.sleeps.withLock { $0.append(duration) }
            }
        }
    }

    typealias Script = @Sendable (_ index: Int, _ request: HTTPRequest, _ writer: HTTPResponseWriter, _ base: String) async throws -> Void

    /// Runs `body` with a server that answers with `script` (1-based request index) and an API whose REST base is
    /// `<server>/api/v3`.
    func withServer(token: String? = "ghp_wiretoken123", maximumWait: Duration = .seconds(5), attempts: Int = 3,
                    script: @escaping Script,
                    _ body: (GitHubAPI, Recorder, String) async throws -> Void) async throws {
        let recorder = Recorder()
        let baseBox = Mutex<String>("")
        let server = LoopbackHTTPServer { request, writer in
            let index = recorder.record(request)
            do {
                try await script(index, request, writer, baseBox.withLock { $0 })
            } catch {
                try? await writer.respond(status: 599)
            }
        }
        try await server.start()
        let base = server.baseURL.absoluteString
        baseBox.withLock { $0 = base }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let configuration = GitHubConfiguration(serverURL: server.baseURL, apiURL: URL(string: base + "/api/v3")!, token: token)
        let api = GitHubAPI(configuration: configuration, httpClient: client, userAgent: "ca-tests/1.0",
                            retry: recorder.policy(maximumWait: maximumWait, attempts: attempts), timeout: .seconds(60))
        do {
            try await body(api, recorder, base)
        } catch {
            try? await client.shutdown()
            try? await server.stop()
            throw error
        }
        try await client.shutdown()
        try await server.stop()
    }

    static let repository = GitHubRepository(shorthand: "octo/app")!

    static var repositoryJSON: [String: Any] { [
        "full_name": "octo/app", "default_branch": "main", "private": true, "visibility": "private",
        "clone_url": "https://github.com/octo/app.git", "html_url": "https://github.com/octo/app", "unknown": ["nested": 1],
    ] }

    static func pullJSON(_ number: Int, head: String = "feature") -> [String: Any] {
        [
            "number": number, "html_url": "https://github.com/octo/app/pull/\(number)", "state": "open", "title": "T", "body": NSNull(),
            "draft": false, "user": ["login": "bot", "id": 9],
            "head": ["ref": head, "sha": "abc", "repo": ["full_name": "octo/app"]], "base": ["ref": "main", "sha": "def", "repo": NSNull()],
        ]
    }

    // MARK: - Headers and paths

    @Test func sendsGitHubHeadersAndKeepsAPIv3Prefix() async throws {
        try await withServer(script: { _, _, writer, _ in
            try await writer.respondJSON(status: 200, Self.repositoryJSON)
        }) { api, recorder, _ in
            let info = try await api.repository(Self.repository)
            #expect(info == GitHubRepositoryInfo(fullName: "octo/app", defaultBranch: "main", isPrivate: true,
                                                  cloneURL: "https://github.com/octo/app.git", htmlURL: "https://github.com/octo/app"))
            let request = try #require(recorder.all.first)
            #expect(request.method == "GET")
            #expect(request.uri == "/api/v3/repos/octo/app")
            #expect(request.header("User-Agent") == "ca-tests/1.0")
            #expect(request.header("Accept") == "application/vnd.github+json")
            #expect(request.header("X-GitHub-Api-Version") == "2022-11-28")
            #expect(request.header("Authorization") == "Bearer ghp_wiretoken123")
            #expect(request.header("Content-Type") == nil)
        }
    }

    @Test func unauthenticatedReadsAndTokenRequiredWrites() async throws {
        try await withServer(token: nil, script: { _, _, writer, _ in
            try await writer.respondJSON(status: 200, Self.pullJSON(3))
        }) { api, recorder, _ in
            let pull = try await api.pullRequest(Self.repository, number: 3)
            #expect(pull.number == 3)
            #expect(pull.userLogin == "bot")
            #expect(pull.head.repositoryFullName == "octo/app")
            #expect(pull.base.repo == nil)
            #expect(recorder.all.first?.header("Authorization") == nil)
            await #expect(throws: GitHubError.noToken) { try await api.authenticatedUser() }
            await #expect(throws: GitHubError.noToken) {
                try await api.createPullRequest(Self.repository, title: "t", body: "b", head: "h", base: "main", draft: false)
            }
            #expect(recorder.all.count == 1)
        }
    }

    @Test func createPullRequestBodyAnd201() async throws {
        try await withServer(script: { _, _, writer, _ in
            try await writer.respondJSON(status: 201, Self.pullJSON(8, head: "feature/login"), headers: [("location", "x")])
        }) { api, recorder, _ in
            let pull = try await api.createPullRequest(Self.repository, title: "Add login", body: "Body", head: "octo:feature/login", base: "main", draft: true)
            #expect(pull.number == 8)
            let request = try #require(recorder.all.first)
            #expect(request.method == "POST")
            #expect(request.path == "/api/v3/repos/octo/app/pulls")
            #expect(request.header("Content-Type") == "application/json")
            let json = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
            #expect(json["title"] as? String == "Add login")
            #expect(json["head"] as? String == "octo:feature/login")
            #expect(json["base"] as? String == "main")
            #expect(json["body"] as? String == "Body")
            #expect(json["draft"] as? Bool == true)
        }
    }

    @Test func pullRequestAlreadyExistsAndRecovery() async throws {
        try await withServer(script: { index, request, writer, _ in
            if request.method == "POST" {
                try await writer.respondJSON(status: 422, ["message": "Validation Failed", "status": "422", "errors": [
                    ["resource": "PullRequest", "code": "custom", "message": "A pull request already exists for octo:feature."],
                ]])
            } else {
                try await writer.respondJSON(status: 200, [Self.pullJSON(5)])
            }
        }) { api, recorder, _ in
            await #expect(throws: GitHubError.pullRequestExists("A pull request already exists for octo:feature.")) {
                try await api.createPullRequest(Self.repository, title: "t", body: "b", head: "feature", base: "main", draft: false)
            }
            let open = try await api.openPullRequests(Self.repository, head: "octo:feature", base: "main")
            #expect(open.map(\.number) == [5])
            let list = try #require(recorder.all.last)
            #expect(list.query["state"] == "open")
            #expect(list.query["head"] == "octo:feature")
            #expect(list.query["base"] == "main")
            #expect(list.rawQueryItems.contains(HTTPRequest.QueryItem(name: "head", value: "octo%3Afeature")))
        }
    }

    @Test func createReviewSendsCommentEventAnd200() async throws {
        try await withServer(script: { _, _, writer, _ in
            try await writer.respondJSON(status: 200, ["id": 77, "state": "COMMENTED", "body": "S", "html_url": "https://github.com/octo/app/pull/3#pullrequestreview-77",
                                                       "commit_id": "abc", "user": ["login": "bot"]])
        }) { api, recorder, _ in
            let review = try await api.createReview(Self.repository, number: 3, commitID: "abc", body: "S", comments: [
                GitHubReviewDraftComment(path: "a.swift", line: 4, startLine: 2, side: .right, body: "range"),
                GitHubReviewDraftComment(path: "b.swift", line: 1, side: .left, body: "one"),
            ])
            #expect(review.id == 77)
            #expect(review.userLogin == "bot")
            let request = try #require(recorder.all.first)
            #expect(request.path == "/api/v3/repos/octo/app/pulls/3/reviews")
            let json = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
            #expect(json["event"] as? String == "COMMENT")
            #expect(json["commit_id"] as? String == "abc")
            let comments = try #require(json["comments"] as? [[String: Any]])
            #expect(comments.count == 2)
            #expect(comments[0]["start_line"] as? Int == 2)
            #expect(comments[0]["start_side"] as? String == "RIGHT")
            #expect(comments[1]["side"] as? String == "LEFT")
            #expect(comments[1]["start_line"] == nil)
        }
    }

    // MARK: - Errors

    @Test func notFoundNamesWhatWasMissing() async throws {
        try await withServer(script: { _, _, writer, _ in
            try await writer.respondJSON(status: 404, ["message": "Not Found", "documentation_url": "https://docs.github.com", "status": "404"])
        }) { api, recorder, _ in
            do throws(GitHubError) {
                _ = try await api.pullRequestFiles(Self.repository, number: 12)
                Issue.record("expected notFound")
            } catch {
                #expect(error == .notFound("pull request #12 of octo/app"))
                #expect(error.description == "Pull request #12 of octo/app was not found on GitHub, or the token has no access to it")
            }
            #expect(recorder.all.count == 1)
        }
    }

    @Test func badCredentialsNeverEchoTheToken() async throws {
        try await withServer(script: { _, request, writer, _ in
            // A hostile server echoing what it was sent.
            try await writer.respond(status: 401, headers: [("content-type", "text/plain")], body: Data("bad: \(request.header("Authorization") ?? "")".utf8))
        }) { api, _, _ in
            do throws(GitHubError) {
                _ = try await api.authenticatedUser()
                Issue.record("expected badCredentials")
            } catch {
                guard case .badCredentials(let message) = error else { Issue.record("\(error)"); return }
                #expect(!message.contains("ghp_wiretoken123"))
                #expect(!error.description.contains("ghp_wiretoken123"))
                #expect(!String(reflecting: error).contains("ghp_wiretoken123"))
            }
        }
    }

    @Test func invalidJSONIsInvalidResponse() async throws {
        try await withServer(script: { _, _, writer, _ in
            try await writer.respond(status: 200, body: Data("{\"login\": 1".utf8))
        }) { api, _, _ in
            let error = await #expect(throws: GitHubError.self) {
                _ = try await api.authenticatedUser()
            }
            if case .invalidResponse = error {} else { Issue.record("expected .invalidResponse, got \(String(describing: error))") }
        }
    }

    @Test func oversizedBodiesAreRefusedAndLongErrorBodiesCut() async throws {
        try await withServer(script: { index, _, writer, _ in
            if index == 1 {
                try await writer.respond(status: 200, body: Data(repeating: UInt8(ascii: " "), count: GitHubAPI.maximumBodySize + 1))
            } else {
                try await writer.respond(status: 500, body: Data(repeating: UInt8(ascii: "e"), count: 1_000_000))
            }
        }) { api, _, _ in
            let error = await #expect(throws: GitHubError.self) { _ = try await api.updatePullRequest(Self.repository, number: 2, title: "x", body: "y") }
            if case .invalidResponse = error {} else { Issue.record("expected .invalidResponse, got \(String(describing: error))") }
            let second = await #expect(throws: GitHubError.self) { _ = try await api.updatePullRequest(Self.repository, number: 2, title: "x", body: nil) }
            guard case .server(500, let message) = second else { Issue.record("\(String(describing: second))"); return }
            #expect(message.count <= GitHubText.maximumMessageLength + 1)
        }
    }

    @Test func updateWithNothingToChangeOnlyReads() async throws {
        try await withServer(script: { _, _, writer, _ in
            try await writer.respondJSON(status: 200, Self.pullJSON(2))
        }) { api, recorder, _ in
            let pull = try await api.updatePullRequest(Self.repository, number: 2, title: nil, body: nil)
            #expect(pull.number == 2)
            #expect(recorder.all.map(\.method) == ["GET"])
        }
    }

    // MARK: - Pagination

    @Test func followsNextLinksVerbatimUpToTheLimit() async throws {
        try await withServer(script: { index, request, writer, base in
            let files = (0..<100).map { ["filename": "p\(index)/f\($0)", "status": "added", "additions": 1, "deletions": 0, "patch": "@@ -0,0 +1 @@\n+x"] as [String: Any] }
            let next = "\(base)/api/v3/repositories/42/pulls/3/files?per_page=100&page=\(index + 1)&cursor=a%2Fb"
            try await writer.respondJSON(status: 200, files, headers: [("link", "<\(next)>; rel=\"next\", <\(base)/api/v3/x?page=9>; rel=\"last\"")])
        }) { api, recorder, _ in
            let files = try await api.pullRequestFiles(Self.repository, number: 3, limit: 250)
            #expect(files.count == 250)
            #expect(files.first?.filename == "p1/f0")
            #expect(files.last?.filename == "p3/f49")
            let uris = recorder.all.map(\.uri)
            #expect(uris == [
                "/api/v3/repos/octo/app/pulls/3/files?per_page=100",
                "/api/v3/repositories/42/pulls/3/files?per_page=100&page=2&cursor=a%2Fb",
                "/api/v3/repositories/42/pulls/3/files?per_page=100&page=3&cursor=a%2Fb",
            ])
            #expect(recorder.all.allSatisfy { $0.header("Authorization") == "Bearer ghp_wiretoken123" })
        }
    }

    @Test func stopsWithoutNextLink() async throws {
        try await withServer(script: { _, _, writer, _ in
            try await writer.respondJSON(status: 200, [["id": 1, "body": "hi", "user": ["login": "u"], "created_at": "2024-01-01T00:00:00Z"]])
        }) { api, recorder, _ in
            let comments = try await api.issueComments(Self.repository, number: 2)
            #expect(comments.map(\.userLogin) == ["u"])
            #expect(recorder.all.count == 1)
        }
    }

    @Test func neverFollowsNextLinksToAnotherHost() async throws {
        let elsewhere = Recorder()
        let other = LoopbackHTTPServer { request, writer in
            _ = elsewhere.record(request)
            try? await writer.respondJSON(status: 200, [[String: Any]]())
        }
        try await other.start()
        let otherBase = other.baseURL.absoluteString
        try await withServer(script: { _, _, writer, _ in
            try await writer.respondJSON(status: 200, [["id": 1, "state": "COMMENTED"]], headers: [("link", "<\(otherBase)/api/v3/steal?page=2>; rel=\"next\"")])
        }) { api, _, _ in
            let error = await #expect(throws: GitHubError.self) {
                _ = try await api.reviews(Self.repository, number: 3)
            }
            if case .invalidResponse = error {} else { Issue.record("expected .invalidResponse, got \(String(describing: error))") }
        }
        #expect(elsewhere.all.isEmpty)
        try await other.stop()
    }

    @Test func redirectToAnotherHostDropsTheToken() async throws {
        let elsewhere = Recorder()
        let other = LoopbackHTTPServer { request, writer in
            _ = elsewhere.record(request)
            try? await writer.respondJSON(status: 200, Self.repositoryJSON)
        }
        try await other.start()
        let otherBase = other.baseURL.absoluteString
        try await withServer(script: { _, _, writer, _ in
            try await writer.respond(status: 302, headers: [("location", "\(otherBase)/moved")])
        }) { api, _, _ in
            // Whether the client follows the redirect is the HTTPClient's configuration; the token must not travel.
            _ = try? await api.repository(Self.repository)
        }
        // HTTPClient's default configuration follows redirects, so the other host was asked once, without the token.
        #expect(elsewhere.all.count == 1)
        #expect(elsewhere.all.allSatisfy { $0.header("Authorization") == nil })
        try await other.stop()
    }

    // MARK: - Rate limits and retries

    @Test func primaryRateLimitIsWaitedOut() async throws {
        // The sleep is recorded, not slept: a reset 30 s ahead leaves room for a loaded machine.
        try await withServer(maximumWait: .seconds(60), script: { index, _, writer, _ in
            if index == 1 {
                let reset = Int(Date().timeIntervalSince1970) + 30
                try await writer.respondJSON(status: 403, ["message": "API rate limit exceeded for user ID 1."],
                                             headers: [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", String(reset)), ("x-ratelimit-limit", "5000")])
            } else {
                try await writer.respondJSON(status: 200, ["login": "octocat", "id": 1])
            }
        }) { api, recorder, _ in
            let user = try await api.authenticatedUser()
            #expect(user == GitHubUser(login: "octocat", id: 1))
            #expect(recorder.all.count == 2)
            let wait = try #require(recorder.waits.first)
            #expect(wait > .seconds(15) && wait <= .seconds(32), "\(wait)")
        }
    }

    @Test func primaryRateLimitTooFarAwayFailsAtOnce() async throws {
        let reset = Int(Date().timeIntervalSince1970) + 3600
        try await withServer(script: { _, _, writer, _ in
            try await writer.respondJSON(status: 429, ["message": "API rate limit exceeded"],
                                         headers: [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", String(reset))])
        }) { api, recorder, _ in
            await #expect(throws: GitHubError.rateLimited(resetsAt: Date(timeIntervalSince1970: TimeInterval(reset)), secondary: false)) {
                _ = try await api.repository(Self.repository)
            }
            #expect(recorder.all.count == 1)
            #expect(recorder.waits.isEmpty)
        }
    }

    @Test func secondaryRateLimitHonoursRetryAfterEvenForWrites() async throws {
        try await withServer(script: { index, _, writer, _ in
            if index == 1 {
                try await writer.respondJSON(status: 403, ["message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."],
                                             headers: [("retry-after", "2")])
            } else {
                try await writer.respondJSON(status: 201, Self.pullJSON(4))
            }
        }) { api, recorder, _ in
            let pull = try await api.createPullRequest(Self.repository, title: "t", body: "b", head: "h", base: "main", draft: false)
            #expect(pull.number == 4)
            #expect(recorder.all.count == 2)
            #expect(recorder.waits == [.seconds(2)])
        }
    }

    @Test func secondaryRateLimitWithoutRetryAfterExceedsShortMaximumWait() async throws {
        try await withServer(maximumWait: .seconds(5), script: { _, _, writer, _ in
            try await writer.respondJSON(status: 403, ["message": "You have exceeded a secondary rate limit."])
        }) { api, recorder, _ in
            do throws(GitHubError) {
                _ = try await api.issue(Self.repository, number: 1)
                Issue.record("expected rateLimited")
            } catch {
                guard case .rateLimited(let resetsAt, let secondary) = error else { Issue.record("\(error)"); return }
                #expect(secondary)
                #expect(resetsAt != nil)
            }
            #expect(recorder.all.count == 1)
        }
    }

    @Test func realSleepHonoursAShortRetryAfter() async throws {
        let recorder = Recorder()
        let server = LoopbackHTTPServer { request, writer in
            if recorder.record(request) == 1 {
                try? await writer.respondJSON(status: 429, ["message": "You have exceeded a secondary rate limit."], headers: [("retry-after", "1")])
            } else {
                try? await writer.respondJSON(status: 200, Self.repositoryJSON)
            }
        }
        try await server.start()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let configuration = GitHubConfiguration(serverURL: server.baseURL, apiURL: server.baseURL, token: nil)
        let api = GitHubAPI(configuration: configuration, httpClient: client, userAgent: "ca-tests",
                            retry: GitHubRetryPolicy(maximumWait: .seconds(2), maximumAttempts: 2))
        let clock = ContinuousClock()
        let start = clock.now
        let info = try? await api.repository(Self.repository)
        let elapsed = clock.now - start
        try await client.shutdown()
        try await server.stop()
        #expect(info?.defaultBranch == "main")
        #expect(recorder.all.map(\.uri) == ["/repos/octo/app", "/repos/octo/app"])
        #expect(elapsed >= .milliseconds(950))
    }

    @Test func rateLimitGivesUpAfterMaximumAttempts() async throws {
        try await withServer(attempts: 3, script: { _, _, writer, _ in
            try await writer.respondJSON(status: 429, ["message": "slow down"], headers: [("retry-after", "1")])
        }) { api, recorder, _ in
            await #expect(throws: GitHubError.self) { _ = try await api.repository(Self.repository) }
            #expect(recorder.all.count == 3)
            #expect(recorder.waits == [.seconds(1), .seconds(1)])
        }
    }

    @Test func readsAreRetriedAfter503ButWritesAreNot() async throws {
        try await withServer(script: { index, request, writer, _ in
            if request.method == "GET", index >= 2 {
                try await writer.respondJSON(status: 200, ["number": 1, "title": "I", "html_url": "u", "state": "open", "user": ["login": "x"],
                                                           "pull_request": ["html_url": "p"]])
            } else {
                try await writer.respond(status: request.method == "GET" ? 503 : 502, body: Data("<html>oops</html>".utf8))
            }
        }) { api, recorder, _ in
            let issue = try await api.issue(Self.repository, number: 1)
            #expect(issue.isPullRequest)
            #expect(recorder.all.count == 2)
            #expect(recorder.waits.count == 1)
            await #expect(throws: GitHubError.server(status: 502, message: "<html>oops</html>")) {
                _ = try await api.updatePullRequest(Self.repository, number: 1, title: "new", body: nil)
            }
            #expect(recorder.all.count == 3)
            let patch = try #require(recorder.all.last)
            #expect(patch.method == "PATCH")
            #expect(patch.bodyText == #"{"title":"new"}"#)
        }
    }

    @Test func transportFailureOnReadIsRetriedThenReported() async throws {
        try await withServer(attempts: 2, script: { _, _, writer, _ in
            await writer.abort()
        }) { api, recorder, _ in
            let error = await #expect(throws: GitHubError.self) {
                _ = try await api.repository(Self.repository)
            }
            if case .transport = error {} else { Issue.record("expected .transport, got \(String(describing: error))") }
            #expect(recorder.all.count == 2)
        }
    }
}

import AsyncHTTPClient
import CATestSupport
import Foundation
import NIOCore
import NIOHTTP1
import SandboxClient
import Testing

/// Tests of the fake GitHub: real `git` over smart HTTP, and the REST API on the wire.
@Suite("FakeGitHub", .serialized)
struct FakeGitHubTests {
    static let owner = "octo"
    static let token = "ghp_fakeOwnerToken0123456789"
    static let otherToken = "ghp_fakeOtherToken0123456789"

    // MARK: - git smart HTTP

    @Test("git clones a private repository with the token, gets 401 without it and 404 for an unknown repository")
    func cloneNeedsToken() async throws {
        try await withGitHub { github, scratch in
            let url = "\(github.serverURL.absoluteString)/\(Self.owner)/secret.git"
            let ok = try await git(["clone", "-q", url, scratch + "/ok"], github: github, token: Self.token)
            #expect(ok.status == 0, "\(ok.stderrText)")
            #expect(FileManager.default.fileExists(atPath: scratch + "/ok/README.md"))
            let config = try String(contentsOfFile: scratch + "/ok/.git/config", encoding: .utf8)
            #expect(!config.contains(Self.token))

            let anonymous = try await git(["clone", "-q", url, scratch + "/anon"], github: github, token: nil)
            #expect(anonymous.status != 0)
            let wrong = try await git(["clone", "-q", url, scratch + "/wrong"], github: github, token: "ghp_nope")
            #expect(wrong.status != 0)
            let missing = try await git(["clone", "-q", "\(github.serverURL.absoluteString)/\(Self.owner)/nothing.git", scratch + "/missing"],
                                        github: github, token: Self.token)
            #expect(missing.status != 0)
            #expect(missing.stderrText.contains("not found"), "\(missing.stderrText)")
            let other = try await git(["clone", "-q", url, scratch + "/other"], github: github, token: Self.otherToken)
            #expect(other.status != 0)

            let gitLog = github.requestLog.filter { $0.kind == "git" }
            #expect(gitLog.contains { $0.status == 401 && $0.authScheme == nil && $0.path == "/\(Self.owner)/secret.git/info/refs" })
            #expect(gitLog.contains { $0.status == 401 && $0.authScheme == "basic" && $0.user == nil })
            #expect(gitLog.contains { $0.status == 404 && $0.path.hasPrefix("/\(Self.owner)/nothing.git") })
            #expect(gitLog.contains { $0.status == 200 && $0.method == "POST" && $0.path.hasSuffix("/git-upload-pack") && $0.user == Self.owner })
            #expect(!"\(github.requestLog)".contains(Self.token))

            let raw = try await call(.GET, "\(github.serverURL.absoluteString)/\(Self.owner)/secret/info/refs?service=git-upload-pack", token: nil)
            #expect(raw.status == 401)
            #expect(raw.headers["www-authenticate"].first == "Basic realm=\"GitHub\"")
            let bearer = try await call(.GET, "\(github.serverURL.absoluteString)/\(Self.owner)/secret/info/refs?service=git-upload-pack",
                                        token: Self.token, scheme: "Bearer")
            #expect(bearer.status == 200)
            #expect(bearer.headers["content-type"].first == "application/x-git-upload-pack-advertisement")
        }
    }

    @Test("pull/N/head follows pushes to the head branch, can be fetched by sha, and cannot be pushed to")
    func pullRefsFollowHeadBranch() async throws {
        try await withGitHub { github, scratch in
            let number = try await github.openPullRequest(owner: Self.owner, name: "demo", title: "Feature", head: "feature", author: "hubot")
            let url = "\(github.serverURL.absoluteString)/\(Self.owner)/demo"
            let work = scratch + "/work"
            try await expectGit(["clone", "-q", url, work], github)
            try await expectGit(["-C", work, "fetch", "-q", "origin", "pull/\(number)/head:pr"], github)
            let first = try await github.branchHead(owner: Self.owner, name: "demo", branch: "feature")
            #expect(try await expectGit(["-C", work, "rev-parse", "pr"], github) == first)

            let second = try await github.commit(owner: Self.owner, name: "demo", branch: "feature", files: ["b.txt": "two\n"], message: "more")
            try await expectGit(["-C", work, "fetch", "-q", "origin", "+pull/\(number)/head:pr"], github)
            #expect(try await expectGit(["-C", work, "rev-parse", "pr"], github) == second)
            try await expectGit(["-C", work, "fetch", "-q", "origin", second], github)

            let rejected = try await git(["-C", work, "push", "origin", "HEAD:refs/pull/\(number)/head"], github: github, token: Self.token)
            #expect(rejected.status != 0)
            #expect(rejected.stderrText.contains("deny updating a hidden ref"), "\(rejected.stderrText)")
        }
    }

    @Test("a fetch whose negotiation git sends gzip-encoded is served")
    func gzipNegotiation() async throws {
        try await withGitHub { github, scratch in
            let url = "\(github.serverURL.absoluteString)/\(Self.owner)/demo.git"
            let (mine, theirs) = (scratch + "/mine", scratch + "/theirs")
            try await expectGit(["clone", "-q", url, mine], github)
            try await expectGit(["clone", "-q", url, theirs], github)
            // Local commits unknown to the server make the "have" lines exceed git's gzip threshold.
            for index in 0..<300 {
                try await expectGit(["-C", mine, "commit", "-q", "--allow-empty", "-m", "local \(index)"], github)
            }
            try await expectGit(["-C", theirs, "commit", "-q", "--allow-empty", "-m", "remote"], github)
            try await expectGit(["-C", theirs, "push", "-q", "origin", "main"], github)
            let remote = try await expectGit(["-C", theirs, "rev-parse", "HEAD"], github)
            let fetch = try await git(["-c", "protocol.version=0", "-C", mine, "fetch", "origin", "main:fetched"], github: github,
                                      token: Self.token, extra: ["GIT_TRACE_CURL": "1", "GIT_TRACE_CURL_NO_DATA": "1"])
            #expect(fetch.status == 0, "\(fetch.stderrText.suffix(2000))")
            #expect(fetch.stderrText.contains("Content-Encoding: gzip"), "git sent no gzip body")
            #expect(try await expectGit(["-C", mine, "rev-parse", "fetched"], github) == remote)
        }
    }

    @Test("a pushed branch becomes a pull request through REST; the 422 cases have GitHub's shapes")
    func pushThenCreatePullRequest() async throws {
        try await withGitHub { github, scratch in
            let work = scratch + "/work"
            try await expectGit(["clone", "-q", "\(github.serverURL.absoluteString)/\(Self.owner)/demo.git", work], github)
            try await expectGit(["-C", work, "checkout", "-q", "-b", "topic/one"], github)
            // A multi-MiB push body (sent chunked by git).
            var big = ""
            for index in 0..<120_000 { big += "line \(index) \(UUID().uuidString)\n" }
            try big.write(toFile: work + "/big.txt", atomically: true, encoding: .utf8)
            try "new\n".write(toFile: work + "/new.txt", atomically: true, encoding: .utf8)
            try await expectGit(["-C", work, "add", "-A"], github)
            try await expectGit(["-C", work, "commit", "-q", "-m", "topic"], github)
            try await expectGit(["-C", work, "push", "-q", "origin", "topic/one"], github)
            let pushed = try await expectGit(["-C", work, "rev-parse", "HEAD"], github)
            #expect(try await github.branchHead(owner: Self.owner, name: "demo", branch: "topic/one") == pushed)

            let api = github.apiURL.absoluteString + "/repos/\(Self.owner)/demo"
            let branch = try await call(.GET, api + "/branches/topic%2Fone", token: Self.token)
            #expect(branch.status == 200)
            #expect(branch.json["commit"]?["sha"]?.stringValue == pushed)
            #expect(try await call(.GET, api + "/branches/topic/one", token: Self.token).json["name"]?.stringValue == "topic/one")
            #expect(try await call(.GET, api + "/branches/nope", token: Self.token).json["message"]?.stringValue == "Branch not found")

            let created = try await call(.POST, api + "/pulls", token: Self.token,
                                         json: ["title": "Topic", "head": "octo:topic/one", "base": "main", "body": "Please", "draft": true])
            #expect(created.status == 201)
            let number = try #require(created.json["number"]?.intValue)
            #expect(created.headers["location"].first == api + "/pulls/\(number)")
            #expect(created.json["head"]?["sha"]?.stringValue == pushed)
            #expect(created.json["html_url"]?.stringValue == "\(github.serverURL.absoluteString)/\(Self.owner)/demo/pull/\(number)")
            let stored = try #require(github.pullRequest(owner: Self.owner, name: "demo", number: number))
            #expect(stored.title == "Topic" && stored.body == "Please" && stored.head == "topic/one" && stored.base == "main")
            #expect(stored.draft && stored.author == Self.owner)

            let again = try await call(.POST, api + "/pulls", token: Self.token, json: ["title": "Again", "head": "topic/one", "base": "main"])
            #expect(again.status == 422)
            #expect(again.json["message"]?.stringValue == "Validation Failed")
            #expect(again.json["errors"]?[0] == ["resource": "PullRequest", "code": "custom", "message": "A pull request already exists for octo:topic/one."])
            let same = try await call(.POST, api + "/pulls", token: Self.token, json: ["title": "Same", "head": "main", "base": "main"])
            #expect(same.json["errors"]?[0]?["message"]?.stringValue == "No commits between main and main")
            let ghost = try await call(.POST, api + "/pulls", token: Self.token, json: ["title": "Ghost", "head": "ghost", "base": "main"])
            #expect(ghost.json["errors"]?[0] == ["resource": "PullRequest", "field": "head", "code": "invalid"])
            let untitled = try await call(.POST, api + "/pulls", token: Self.token, json: ["head": "feature", "base": "main"])
            #expect(untitled.status == 422)
            #expect(untitled.json["errors"]?[0] == ["resource": "PullRequest", "code": "missing_field", "field": "title"])

            let listed = try await call(.GET, api + "/pulls?state=open&head=octo:topic/one&base=main", token: Self.token)
            #expect(listed.json.arrayValue?.count == 1)
            #expect(listed.json[0]?["number"]?.intValue == number)

            let diff = try await call(.GET, api + "/pulls/\(number)", token: Self.token, accept: "application/vnd.github.diff")
            let local = try await expectGit(["-C", work, "diff", "origin/main...HEAD"], github, trim: false)
            #expect(diff.status == 200)
            #expect(String(decoding: diff.body, as: UTF8.self) == local)

            let patched = try await call(.PATCH, api + "/pulls/\(number)", token: Self.token, json: ["title": "Renamed", "state": "closed"])
            #expect(patched.json["state"]?.stringValue == "closed")
            #expect(github.pullRequest(owner: Self.owner, name: "demo", number: number)?.title == "Renamed")
            #expect(try await call(.PATCH, api + "/pulls/\(number)", token: Self.token, json: ["base": "nope"]).status == 422)
        }
    }

    @Test("a review with one comment outside the diff is rejected whole; a valid one is stored and listed")
    func reviewValidation() async throws {
        try await withGitHub { github, _ in
            try await github.commit(owner: Self.owner, name: "demo", branch: "feature",
                                    files: ["src/app.txt": "one\nTWO\nthree\nfour\n", "README.md": nil], message: "edit")
            let number = try await github.openPullRequest(owner: Self.owner, name: "demo", title: "Edit", head: "feature", author: "hubot")
            let api = github.apiURL.absoluteString + "/repos/\(Self.owner)/demo/pulls/\(number)"
            let files = try await call(.GET, api + "/files", token: Self.token)
            let app = try #require(files.json.arrayValue?.first { $0["filename"]?.stringValue == "src/app.txt" })
            #expect(app["status"]?.stringValue == "modified")
            #expect(app["additions"]?.intValue == 2 && app["deletions"]?.intValue == 1)
            #expect(app["patch"]?.stringValue?.hasPrefix("@@ -1,3 +1,4 @@") == true)
            #expect(files.json.arrayValue?.first { $0["filename"]?.stringValue == "README.md" }?["status"]?.stringValue == "removed")

            let good: FakeJSON = ["path": "src/app.txt", "line": 2, "side": "RIGHT", "body": "Why upper case?"]
            let bad: FakeJSON = ["path": "src/app.txt", "line": 40, "side": "RIGHT", "body": "Out of the diff"]
            let rejected = try await call(.POST, api + "/reviews", token: Self.token, json: ["event": "COMMENT", "body": "Review", "comments": [good, bad]])
            #expect(rejected.status == 422)
            #expect(rejected.json["message"]?.stringValue == "Unprocessable Entity")
            #expect(rejected.json["errors"] == ["Pull request review thread line must be part of the diff"])
            #expect(rejected.json["status"]?.stringValue == "422")
            #expect(github.reviews(owner: Self.owner, name: "demo", number: number).isEmpty)
            let startAfterLine: FakeJSON = ["path": "src/app.txt", "start_line": 4, "line": 2, "body": "x"]
            #expect(try await call(.POST, api + "/reviews", token: Self.token, json: ["event": "COMMENT", "body": "b", "comments": [startAfterLine]]).json["errors"] == ["Pull request review thread start line must be part of the same hunk as the line."])
            let unknownPath: FakeJSON = ["path": "nope.txt", "line": 1, "body": "x"]
            #expect(try await call(.POST, api + "/reviews", token: Self.token, json: ["event": "COMMENT", "body": "b", "comments": [unknownPath]])
                .json["errors"] == ["Path could not be resolved"])
            #expect(try await call(.POST, api + "/reviews", token: Self.token, json: ["event": "COMMENT"]).status == 422)

            let range: FakeJSON = ["path": "src/app.txt", "start_line": 1, "line": 2, "body": "Range"]
            let left: FakeJSON = ["path": "src/app.txt", "line": 2, "side": "LEFT", "body": "Old two"]
            let accepted = try await call(.POST, api + "/reviews", token: Self.token,
                                          json: ["event": "APPROVE", "body": "Looks good", "comments": [good, range, left]])
            #expect(accepted.status == 200)
            #expect(accepted.json["state"]?.stringValue == "APPROVED")
            let reviews = github.reviews(owner: Self.owner, name: "demo", number: number)
            #expect(reviews.count == 1)
            #expect(reviews.first?.comments.map(\.body) == ["Why upper case?", "Range", "Old two"])
            #expect(reviews.first?.commitID == (try await github.branchHead(owner: Self.owner, name: "demo", branch: "feature")))

            let comments = try await call(.GET, api + "/comments", token: Self.token)
            #expect(comments.json.arrayValue?.map { $0["body"]?.stringValue ?? "" } == ["Why upper case?", "Range", "Old two"])
            #expect(comments.json[1]?["start_line"]?.intValue == 1)
            #expect(comments.json[0]?["diff_hunk"]?.stringValue?.hasSuffix("+TWO") == true)
            #expect(try await call(.GET, api + "/reviews", token: Self.token).json[0]?["body"]?.stringValue == "Looks good")

            let ownApproval = try await call(.POST, api + "/reviews", token: "ghp_hubot", json: ["event": "APPROVE"])
            #expect(ownApproval.json["errors"] == ["Can not approve your own pull request"])

            let issue = try await call(.GET, github.apiURL.absoluteString + "/repos/\(Self.owner)/demo/issues/\(number)", token: Self.token)
            #expect(issue.json["pull_request"]?["url"]?.stringValue == api)
        }
    }

    @Test("lists paginate with link headers that keep per_page; issues and their comments")
    func paginationAndIssues() async throws {
        try await withGitHub { github, _ in
            var files: [String: String?] = [:]
            for index in 0..<35 { files["f\(index).txt"] = "file \(index)\n" }
            try await github.commit(owner: Self.owner, name: "demo", branch: "many", files: files)
            let number = try await github.openPullRequest(owner: Self.owner, name: "demo", title: "Many", head: "many", author: "hubot")
            var url: String? = github.apiURL.absoluteString + "/repos/\(Self.owner)/demo/pulls/\(number)/files?per_page=10"
            var seen: [String] = []
            var pages = 0
            while let next = url {
                let page = try await call(.GET, next, token: Self.token)
                #expect(page.status == 200)
                seen += page.json.arrayValue?.compactMap { $0["filename"]?.stringValue } ?? []
                let link = page.headers["link"].first ?? ""
                if pages == 0 {
                    #expect(link.contains("per_page=10&page=2>; rel=\"next\""), "\(link)")
                    #expect(link.contains("page=4>; rel=\"last\""), "\(link)")
                }
                url = Self.nextLink(link)
                pages += 1
            }
            #expect(pages == 4)
            #expect(Set(seen) == Set(files.keys))
            #expect(seen.count == 35)

            let issueNumber = try github.createIssue(owner: Self.owner, name: "demo", title: "Bug", body: "Broken", author: "hubot",
                                                     comments: [("hubot", "first"), ("octo", "second")])
            #expect(issueNumber == number + 1)
            let api = github.apiURL.absoluteString + "/repos/\(Self.owner)/demo/issues/\(issueNumber)"
            let issue = try await call(.GET, api, token: Self.token)
            #expect(issue.json["title"]?.stringValue == "Bug" && issue.json["pull_request"] == nil)
            let posted = try await call(.POST, api + "/comments", token: Self.token, json: ["body": "third"])
            #expect(posted.status == 201)
            #expect(posted.headers["location"].first?.hasPrefix(github.apiURL.absoluteString) == true)
            #expect(try await call(.POST, api + "/comments", token: Self.token, json: [:]).json["errors"]?[0]?["code"]?.stringValue == "missing_field")
            let comments = try await call(.GET, api + "/comments?per_page=2", token: Self.token)
            #expect(comments.json.arrayValue?.map { $0["body"]?.stringValue ?? "" } == ["first", "second"])
            #expect(github.issueComments(owner: Self.owner, name: "demo", number: issueNumber).map(\.body) == ["first", "second", "third"])
        }
    }

    @Test("the primary rate limit answers 403 with remaining 0 until reset, then recovers; secondary sends Retry-After")
    func rateLimits() async throws {
        try await withGitHub { github, _ in
            let user = github.apiURL.absoluteString + "/user"
            let normal = try await call(.GET, user, token: Self.token)
            #expect(normal.json["login"]?.stringValue == Self.owner)
            #expect(normal.headers["x-ratelimit-limit"].first == "5000")
            #expect(normal.headers["x-ratelimit-resource"].first == "core")
            github.armPrimaryRateLimit(after: 2, resetAfter: 2)
            #expect(try await call(.GET, user, token: Self.token).status == 200)
            let limited = try await call(.GET, user, token: Self.token)
            #expect(limited.status == 403)
            #expect(limited.headers["x-ratelimit-remaining"].first == "0")
            #expect(limited.json["message"]?.stringValue?.hasPrefix("API rate limit exceeded for user ID 1.") == true)
            let reset = try #require(Int(limited.headers["x-ratelimit-reset"].first ?? ""))
            #expect(try await call(.GET, github.apiURL.absoluteString + "/rate_limit", token: Self.token).json["resources"]?["core"]?["remaining"]?.intValue == 0)
            #expect(try await call(.GET, user, token: Self.token).status == 403)
            let wait = Double(reset) - Date().timeIntervalSince1970 + 0.2
            if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
            #expect(try await call(.GET, user, token: Self.token).status == 200)

            github.armSecondaryRateLimit(count: 1, retryAfter: 7)
            let secondary = try await call(.GET, user, token: Self.token)
            #expect(secondary.status == 403)
            #expect(secondary.headers["retry-after"].first == "7")
            #expect(secondary.json["message"]?.stringValue?.hasPrefix("You have exceeded a secondary rate limit") == true)
            #expect(try await call(.GET, user, token: Self.token).status == 200)
        }
    }

    @Test("error bodies: 401 bad credentials, 404 for a private repository without access, 403 text without User-Agent")
    func errorBodies() async throws {
        try await withGitHub { github, _ in
            let api = github.apiURL.absoluteString
            let bad = try await call(.GET, api + "/user", token: "ghp_unknown")
            #expect(bad.status == 401)
            #expect(bad.json["message"]?.stringValue == "Bad credentials")
            #expect(bad.json["status"]?.stringValue == "401")
            #expect(bad.json["documentation_url"]?.stringValue != nil)
            #expect(try await call(.GET, api + "/user", token: nil).json["message"]?.stringValue == "Requires authentication")

            let hidden = try await call(.GET, api + "/repos/\(Self.owner)/secret", token: Self.otherToken)
            #expect(hidden.status == 404)
            #expect(hidden.json == ["message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"])
            let visible = try await call(.GET, api + "/repos/\(Self.owner)/SECRET", token: Self.token)
            #expect(visible.json["private"]?.boolValue == true)
            #expect(visible.json["default_branch"]?.stringValue == "main")
            #expect(visible.json["permissions"]?["push"]?.boolValue == true)
            #expect(visible.json["clone_url"]?.stringValue == "\(github.serverURL.absoluteString)/\(Self.owner)/secret.git")
            #expect(try await call(.GET, api + "/repos/\(Self.owner)/demo/", token: Self.token).status == 404)

            let huge = try await call(.POST, api + "/repos/\(Self.owner)/demo/pulls", token: Self.token,
                                      json: ["title": .string(String(repeating: "x", count: 2 << 20)), "head": "feature", "base": "main"])
            #expect(huge.status == 413)
            #expect(github.pullRequests(owner: Self.owner, name: "demo").isEmpty)

            let agentless = try await call(.GET, api + "/user", token: Self.token, userAgent: nil)
            #expect(agentless.status == 403)
            #expect(agentless.headers["content-type"].first?.hasPrefix("text/plain") == true)
            #expect(String(decoding: agentless.body, as: UTF8.self).hasPrefix("Request forbidden by administrative rules."))
            let entry = try #require(github.requestLog.last)
            #expect(entry.status == 403 && entry.userAgent == nil && entry.authScheme == "token")
        }
    }

    // MARK: - Helpers

    /// Runs `body` with a started fake holding `octo/demo` (public, README on main, a `feature`
    /// branch one commit ahead) and `octo/secret` (private), tokens for octo, hubot and other.
    private func withGitHub(_ body: (FakeGitHub, String) async throws -> Void) async throws {
        let github = try FakeGitHub()
        try await github.start()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fake-github-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        do {
            github.addToken(Self.token, user: Self.owner)
            github.addToken(Self.otherToken, user: "other")
            github.addToken("ghp_hubot", user: "hubot")
            try await github.createRepository(owner: Self.owner, name: "demo", files: ["README.md": "# demo\n", "src/app.txt": "one\ntwo\nthree\n"],
                                              collaborators: ["hubot"])
            try await github.commit(owner: Self.owner, name: "demo", branch: "feature", files: ["feature.txt": "feature\n"], message: "feature")
            try await github.createRepository(owner: Self.owner, name: "secret", isPrivate: true)
            try await body(github, scratch)
        } catch {
            try? await github.stop()
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
        try await github.stop()
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// Runs git with the token in an `http.<base>/.extraHeader` passed through `GIT_CONFIG_*` (never argv or URL).
    private func git(_ arguments: [String], github: FakeGitHub, token: String?, extra: [String: String] = [:]) async throws -> HostProcess.Output {
        var env = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_AUTHOR_NAME"] = "Test"; env["GIT_AUTHOR_EMAIL"] = "test@example.com"
        env["GIT_COMMITTER_NAME"] = "Test"; env["GIT_COMMITTER_EMAIL"] = "test@example.com"
        env["GIT_ASKPASS"] = nil; env["SSH_ASKPASS"] = nil
        if let token {
            env["GIT_CONFIG_COUNT"] = "2"
            env["GIT_CONFIG_KEY_0"] = "http.\(github.serverURL.absoluteString)/.extraHeader"
            env["GIT_CONFIG_VALUE_0"] = "Authorization: Basic " + Data("x-access-token:\(token)".utf8).base64EncodedString()
            env["GIT_CONFIG_KEY_1"] = "credential.helper"
            env["GIT_CONFIG_VALUE_1"] = ""
        } else {
            env["GIT_CONFIG_COUNT"] = "1"
            env["GIT_CONFIG_KEY_0"] = "credential.helper"
            env["GIT_CONFIG_VALUE_0"] = ""
        }
        return try await HostProcess.run("/usr/bin/env", ["git"] + arguments, environment: env, timeout: .seconds(120))
    }

    /// Runs git with the owner's token, expects success, and returns stdout (trimmed).
    @discardableResult
    private func expectGit(_ arguments: [String], _ github: FakeGitHub, trim: Bool = true) async throws -> String {
        let output = try await git(arguments, github: github, token: Self.token)
        try #require(output.status == 0, "git \(arguments.joined(separator: " ")): \(output.stderrText)")
        return trim ? output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) : output.stdoutText
    }

    private struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var json: FakeJSON { (try? FakeJSON.parse(body)) ?? .null }
    }

    private func call(_ method: HTTPMethod, _ url: String, token: String?, json: FakeJSON? = nil, accept: String = "application/vnd.github+json",
                      userAgent: String? = "ca-tests/1.0", scheme: String = "token") async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "accept", value: accept)
        if let userAgent { request.headers.add(name: "user-agent", value: userAgent) }
        if let token { request.headers.add(name: "authorization", value: "\(scheme) \(token)") }
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json.jsonData))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView))
    }

    private static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">") else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }
}

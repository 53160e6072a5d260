import Foundation
import Synchronization

/// The request handling behind a ``FakeGitHub``: authentication, the request log, rate limits,
/// git smart HTTP (through ``FakeGitHubGitBackend``) and the dispatch to the REST endpoints
/// (`FakeGitHubREST.swift`).
final class FakeGitHubService: Sendable {
    /// The credentials of one request. The token itself is never stored.
    struct Auth: Sendable {
        /// `basic`, `bearer`, `token`, or `nil` without an `Authorization` header.
        var scheme: String?
        /// The user the token belongs to, `nil` when absent or unknown.
        var user: String?
        /// Whether credentials were sent but matched no token.
        var invalid: Bool { scheme != nil && user == nil }
    }

    /// Largest git request body accepted (a multi-MiB push fits).
    static let maxGitBody = 64 << 20
    /// Largest REST request body accepted.
    static let maxJSONBody = 1 << 20

    let state = Mutex(FakeGitHubState())
    /// Parsed diffs by `repo base...head`, so paginated `/files` calls reuse one computation.
    let filesCache = Mutex<[String: [FakeGitHubFileChange]]>([:])
    /// The temporary folder owned by the fake: `repos/` (bare repositories) and `spool/`.
    let root: URL
    let backendPath = Mutex<String?>(nil)

    var reposRoot: URL { root.appendingPathComponent("repos") }
    var spool: URL { root.appendingPathComponent("spool") }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fake-github-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("repos"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("spool"), withIntermediateDirectories: true)
    }

    /// The bare repository folder of `owner/name`.
    func gitDir(_ repo: FakeGitHubRepository) -> String {
        reposRoot.appendingPathComponent(repo.owner.lowercased()).appendingPathComponent(repo.name.lowercased() + ".git").path
    }

    func repository(_ owner: String, _ name: String) -> FakeGitHubRepository? {
        state.withLock { $0.repositories["\(owner)/\(name)".lowercased()] }
    }

    // MARK: - Entry point

    func handle(_ request: HTTPRequest, _ writer: HTTPResponseWriter) async {
        let auth = authenticate(request)
        let kind: String
        var response: FakeGitHubResponse
        if request.path == "/api/v3" || request.path.hasPrefix("/api/v3/") {
            kind = "api"
            response = await api(request, auth: auth)
        } else if request.path.hasPrefix("/_fake/") {
            kind = "other"
            response = control(request)
        } else if let route = GitRoute(path: request.path) {
            kind = "git"
            response = await git(request, route: route, auth: auth)
        } else {
            kind = "other"
            response = .text(404, "Not Found")
        }
        let record = FakeGitHubRequestRecord(
            kind: kind, method: request.method, path: request.path,
            query: request.uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? "",
            status: response.status, authScheme: auth.scheme, user: auth.user, userAgent: request.header("user-agent"))
        state.withLock { $0.log.append(record) }
        if !response.headers.contains(where: { $0.0.lowercased() == "content-length" }) {
            response.headers.append(("content-length", String(response.body.count)))
        }
        try? await writer.respond(status: response.status, headers: response.headers, body: response.body)
    }

    /// Reads `Authorization`: Basic (token as password, or as user name), Bearer or token.
    func authenticate(_ request: HTTPRequest) -> Auth {
        guard let header = request.header("authorization")?.trimmingCharacters(in: .whitespaces), !header.isEmpty else {
            return Auth()
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        let scheme = parts[0].lowercased()
        let credential = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        var candidates: [String] = []
        switch scheme {
        case "basic":
            if let data = Data(base64Encoded: credential), let text = String(data: data, encoding: .utf8) {
                let pair = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                if pair.count == 2 { candidates = [pair[1], pair[0]] } else { candidates = [text] }
            }
        case "bearer", "token":
            candidates = [credential]
        default:
            break
        }
        let tokens = state.withLock { $0.tokens }
        let user = candidates.compactMap { tokens[$0] }.first
        return Auth(scheme: scheme, user: user)
    }

    // MARK: - Test control routes (for outside clients)

    /// `POST /_fake/rate-limit/primary?after=N&reset=S` and `/_fake/rate-limit/secondary?count=N&retry_after=S`.
    func control(_ request: HTTPRequest) -> FakeGitHubResponse {
        guard request.method == "POST" else { return .text(405, "POST only\n") }
        switch request.path {
        case "/_fake/rate-limit/primary":
            let after = Int(request.query["after"] ?? "") ?? 1
            let reset = Int(request.query["reset"] ?? "") ?? 3
            armPrimary(after: after, resetAfter: reset)
            return .text(200, "armed\n")
        case "/_fake/rate-limit/secondary":
            let count = Int(request.query["count"] ?? "") ?? 1
            let retryAfter = Int(request.query["retry_after"] ?? "") ?? 1
            state.withLock { $0.rateLimit.secondaryCount = max(0, count); $0.rateLimit.secondaryRetryAfter = max(0, retryAfter) }
            return .text(200, "armed\n")
        default:
            return .text(404, "Not Found\n")
        }
    }

    func armPrimary(after requests: Int, resetAfter seconds: Int) {
        state.withLock {
            $0.rateLimit.primaryTripsIn = max(1, requests)
            $0.rateLimit.primaryResetAfter = max(1, seconds)
            $0.rateLimit.primaryLimitedUntil = nil
        }
    }

    // MARK: - Rate limits

    /// Counts one API request; returns the rate-limit headers and, when limited, the 403 to send.
    func consumeRateLimit(counts: Bool) -> (headers: [(String, String)], limited: FakeGitHubResponse?) {
        let now = Int(Date().timeIntervalSince1970)
        return state.withLock { state in
            var rate = state.rateLimit
            defer { state.rateLimit = rate }
            if now >= rate.windowReset { rate.used = 0; rate.windowReset = now + 3600 }
            func headers(remaining: Int, reset: Int) -> [(String, String)] {
                [("x-ratelimit-limit", String(FakeGitHubRateLimit.limit)), ("x-ratelimit-remaining", String(remaining)),
                 ("x-ratelimit-used", String(FakeGitHubRateLimit.limit - remaining)), ("x-ratelimit-reset", String(reset)),
                 ("x-ratelimit-resource", "core")]
            }
            let normal = headers(remaining: FakeGitHubRateLimit.limit - rate.used, reset: rate.windowReset)
            if rate.secondaryCount > 0 {
                rate.secondaryCount -= 1
                let response = FakeGitHubJSON.error(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID fake.")
                return (normal + [("retry-after", String(rate.secondaryRetryAfter))], response)
            }
            if let until = rate.primaryLimitedUntil, now >= until { rate.primaryLimitedUntil = nil }
            if counts, rate.primaryLimitedUntil == nil, let left = rate.primaryTripsIn {
                if left <= 1 {
                    rate.primaryTripsIn = nil
                    rate.primaryLimitedUntil = now + rate.primaryResetAfter
                } else {
                    rate.primaryTripsIn = left - 1
                }
            }
            if let until = rate.primaryLimitedUntil {
                let response = FakeGitHubJSON.error(403, "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID fake.")
                return (headers(remaining: 0, reset: until), counts ? response : nil)
            }
            if counts { rate.used += 1 }
            return (headers(remaining: FakeGitHubRateLimit.limit - rate.used, reset: rate.windowReset), nil)
        }
    }

    /// The `resources.core` numbers for `GET /rate_limit`.
    func rateSnapshot() -> (remaining: Int, used: Int, reset: Int) {
        state.withLock { state in
            if let until = state.rateLimit.primaryLimitedUntil, Int(Date().timeIntervalSince1970) < until {
                return (0, FakeGitHubRateLimit.limit, until)
            }
            return (FakeGitHubRateLimit.limit - state.rateLimit.used, state.rateLimit.used, state.rateLimit.windowReset)
        }
    }

    // MARK: - git smart HTTP

    /// `/OWNER/NAME(.git)/info/refs`, `/git-upload-pack` or `/git-receive-pack`.
    struct GitRoute {
        var owner: String
        var name: String
        var rest: String

        init?(path: String) {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard parts.count >= 3 else { return nil }
            let items = Array(parts)
            owner = String(items[0])
            var repo = String(items[1])
            if repo.hasSuffix(".git") { repo.removeLast(4) }
            name = repo
            rest = items[2...].joined(separator: "/")
            guard !owner.isEmpty, !name.isEmpty, ["info/refs", "git-upload-pack", "git-receive-pack"].contains(rest) else { return nil }
        }
    }

    func git(_ request: HTTPRequest, route: GitRoute, auth: Auth) async -> FakeGitHubResponse {
        let challenge = [("www-authenticate", "Basic realm=\"GitHub\"")]
        let service = route.rest == "info/refs" ? (request.query["service"] ?? "") : route.rest
        guard ["git-upload-pack", "git-receive-pack"].contains(service) else {
            return .text(403, "Please upgrade your git client.\nGitHub.com no longer supports git over dumb-http: https://github.com/blog/809-git-dumb-http-transport-to-be-decommissioned\n")
        }
        let isPush = service == "git-receive-pack"
        if auth.invalid {
            return .text(401, "Invalid username or token. Password authentication is not supported for Git operations.\n", headers: challenge)
        }
        guard let repo = repository(route.owner, route.name), repo.canRead(auth.user) else {
            return auth.user == nil ? .text(401, "Repository not found.\n", headers: challenge) : .text(404, "Repository not found.\n")
        }
        guard let user = auth.user else {
            if isPush { return .text(401, "Authentication required.\n", headers: challenge) }
            return await runBackend(request, repo: repo, route: route, user: "")
        }
        if isPush, !repo.canWrite(user) {
            return .text(403, "Permission to \(repo.fullName).git denied to \(user).\n")
        }
        return await runBackend(request, repo: repo, route: route, user: user)
    }

    private func runBackend(_ request: HTTPRequest, repo: FakeGitHubRepository, route: GitRoute, user: String) async -> FakeGitHubResponse {
        guard request.body.count <= Self.maxGitBody else { return .text(413, "Request body too large.\n") }
        guard let executable = backendPath.withLock({ $0 }) else { return .text(503, "not started\n") }
        do {
            _ = try await syncPullRefs(repo)
            let backend = FakeGitHubGitBackend(executable: executable, projectRoot: reposRoot, spool: spool)
            let repoPath = "/\(repo.owner.lowercased())/\(repo.name.lowercased()).git"
            return try await backend.serve(request, repoPath: repoPath, rest: "/" + route.rest, user: user)
        } catch {
            return .text(500, "\(error)\n")
        }
    }

    /// Points `refs/pull/N/head` at each pull request's head branch and returns the branch and
    /// pull refs (refname → sha).
    @discardableResult
    func syncPullRefs(_ repo: FakeGitHubRepository) async throws -> [String: String] {
        let dir = gitDir(repo)
        var refs = try await FakeGitHubGit.refs(["refs/heads", "refs/pull"], in: dir)
        for issue in repo.issues.values {
            guard let pull = issue.pull, let sha = refs["refs/heads/\(pull.head)"] else { continue }
            let ref = "refs/pull/\(issue.number)/head"
            if refs[ref] != sha {
                try await FakeGitHubGit.output(["update-ref", ref, sha], in: dir)
                refs[ref] = sha
            }
        }
        return refs
    }
}

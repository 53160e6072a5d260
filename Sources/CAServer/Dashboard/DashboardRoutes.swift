import AgentCore
import Foundation
import HTTPTypes
import Hummingbird

/// The web dashboard: its page and assets at `/` and `/assets/…` (embedded in the binary), and
/// the sign-in session at `/session`. The page itself talks to the same `/v1` API as every other
/// client, signed in with the session cookie (see ``WebSession`` and ``AuthMiddleware``).
///
/// - `GET /session`: who is signed in and the CSRF token (200), or 401.
/// - `POST /session` with `{"key": "<API key>"}` (JSON only): sets the cookie, answers as `GET`.
/// - `DELETE /session` (with `X-CSRF-Token`): ends the session and clears the cookie (204).
struct DashboardRoutes: Sendable {
    let service: TaskService
    let auth: AuthMiddleware

    /// One embedded file.
    struct Asset: Sendable {
        var bytes: [UInt8]
        var contentType: String
    }

    static let assets: [String: Asset] = [
        "app.js": Asset(bytes: PackageResources.app_js, contentType: "text/javascript; charset=utf-8"),
        "app.css": Asset(bytes: PackageResources.app_css, contentType: "text/css; charset=utf-8"),
        "icon.svg": Asset(bytes: PackageResources.icon_svg, contentType: "image/svg+xml"),
    ]

    /// The largest sign-in request body.
    static let maximumSignInBody = 4096

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in
            Self.page()
        }
        router.get("/assets/:name") { _, context in
            guard let name = context.parameters.get("name"), let asset = Self.assets[name] else {
                return Self.problem(APIProblem(status: 404, code: "route_not_found", title: "Not Found", detail: "no such asset"), path: "/assets")
            }
            return Response(status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
        }
        router.get("/session") { request, _ in
            guard let token = WebSession.token(in: request.headers),
                  let principal = try await auth.authenticate(sessionToken: token) else {
                return Self.problem(Self.signedOut, path: "/session")
            }
            return Self.sessionAnswer(principal, token: token, headers: [:])
        }
        router.post("/session") { request, _ in
            try await signIn(request)
        }
        router.delete("/session") { request, _ in
            try await signOut(request)
        }
    }

    static let signedOut = APIProblem(status: 401, code: "unauthorized", title: "Unauthorized", detail: "not signed in")

    private func signIn(_ request: Request) async throws -> Response {
        if WebSession.isCrossOrigin(request.headers) { return Self.problem(AuthMiddleware.csrfRefused, path: "/session") }
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/json") else {
            return Self.problem(APIProblem(status: 415, code: "unsupported_media_type", title: "Unsupported Media Type",
                                           detail: "send {\"key\": \"<API key>\"} as application/json"), path: "/session")
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Self.maximumSignInBody) } catch {
            return Self.problem(APIProblem(status: 413, code: "body_too_large", title: "Content Too Large",
                                           detail: "a sign-in request is at most \(Self.maximumSignInBody) bytes"), path: "/session")
        }
        struct SignIn: Decodable { var key: String }
        guard let signIn = try? JSONDecoder().decode(SignIn.self, from: Data(buffer: body)) else {
            return Self.problem(.invalid("send {\"key\": \"<API key>\"}"), path: "/session")
        }
        let key = signIn.key.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let principal = try await auth.authenticate(key: key) else {
            return Self.problem(APIProblem(status: 401, code: "unauthorized", title: "Unauthorized", detail: "no such API key, or it was revoked"),
                                path: "/session")
        }
        let token = WebSession.newToken()
        let now = Date()
        do {
            try await service.writableStore().insert(
                session: WebSessionRecord(tokenHash: APIKeys.hash(token), keyHash: APIKeys.hash(key), createdAt: now,
                                          expiresAt: now.addingTimeInterval(WebSession.lifetime)), now: now)
        } catch {
            return Self.problem(.storeUnavailable("the session cannot be stored"), path: "/session")
        }
        return Self.sessionAnswer(principal, token: token, headers: [.setCookie: WebSession.cookie(token, secure: Self.isSecure(request))])
    }

    private func signOut(_ request: Request) async throws -> Response {
        if let token = WebSession.token(in: request.headers) {
            guard WebSession.mayProceed(request.method, request.headers, token: token) else {
                return Self.problem(AuthMiddleware.csrfRefused, path: "/session")
            }
            do { try await service.writableStore().deleteSession(tokenHash: APIKeys.hash(token)) } catch {
                return Self.problem(.storeUnavailable("the session cannot be removed"), path: "/session")
            }
        }
        return Response(status: .noContent, headers: [.setCookie: WebSession.expiredCookie(secure: Self.isSecure(request))])
    }

    /// Whether the browser reached the server over HTTPS (through a proxy that says so).
    private static func isSecure(_ request: Request) -> Bool {
        request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    private static func sessionAnswer(_ principal: RequestPrincipal, token: String, headers: HTTPFields) -> Response {
        struct Answer: Encodable {
            var name: String
            var admin: Bool
            var csrf_token: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(Answer(name: principal.name, admin: principal.admin, csrf_token: WebSession.csrfToken(for: token)))) ?? Data()
        var headers = headers
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The dashboard's one page.
    static func page() -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: PackageResources.index_html)))
    }

    static func problem(_ problem: APIProblem, path: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json", .cacheControl: "no-store"]
        for (name, value) in problem.headers { if let field = HTTPField.Name(name) { headers[field] = value } }
        return Response(status: .init(code: problem.status), headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: problem.encoded(path: path))))
    }
}

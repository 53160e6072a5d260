import AgentCore
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Checks the caller on every operation but health, readiness, metrics and the document, and
/// sets ``RequestPrincipal/current`` for the handler: `Authorization: Bearer <key>`, or the web
/// dashboard's session cookie (see ``WebSession``), which a state-changing request must back
/// with `X-CSRF-Token` and which pages of other origins cannot use.
///
/// Keys are looked up by their SHA-256 (the store never holds a key); `CA_ADMIN_KEY` from the
/// server's environment is a bootstrap admin key, compared in constant time.
struct AuthMiddleware: ServerMiddleware {
    static let open: Set<String> = ["getHealth", "getReadiness", "getMetrics", "getOpenAPIDocument"]

    let store: TaskStore
    let adminKey: String?
    /// Keys found in the store, by hash, kept 5 s: a key revoked with `ca keys revoke` (another
    /// process) stops working within that time. Unknown keys are never kept.
    let keys = ExpiringCache<RequestPrincipal>(maximumAge: .seconds(5), capacity: 1_000)

    static let csrfRefused = APIProblem(status: 403, code: "csrf_refused", title: "Forbidden",
                                        detail: "a request signed in with the dashboard's cookie must come from the dashboard's own pages with its X-CSRF-Token header")

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if Self.open.contains(operationID) { return try await next(request, body, metadata) }
        let principal: RequestPrincipal
        if let header = request.headerFields[.authorization] {
            guard let found = try await authenticate(header) else { throw APIProblem.unauthorized }
            principal = found
        } else if let token = WebSession.token(in: request.headerFields) {
            guard WebSession.mayProceed(request.method, request.headerFields, token: token) else { throw Self.csrfRefused }
            guard let found = try await authenticate(sessionToken: token) else { throw APIProblem.unauthorized }
            principal = found
        } else {
            throw APIProblem.unauthorized
        }
        return try await RequestPrincipal.$current.withValue(principal) { try await next(request, body, metadata) }
    }

    /// The principal of an `Authorization` header's bearer key, or `nil`.
    func authenticate(_ header: String?) async throws -> RequestPrincipal? {
        guard let header, header.count <= 512 else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return try await authenticate(key: String(parts[1]))
    }

    /// The principal of an API key, or `nil`.
    func authenticate(key: String) async throws -> RequestPrincipal? {
        let key = key.trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, key.count <= 512 else { return nil }
        return try await principal(keyHash: APIKeys.hash(key))
    }

    /// The principal of a dashboard session token (from its cookie), or `nil` when the session
    /// is unknown, expired, or its key was revoked.
    func authenticate(sessionToken token: String) async throws -> RequestPrincipal? {
        let session: WebSessionRecord?
        do { session = try await store.session(tokenHash: APIKeys.hash(token)) } catch {
            throw APIProblem.storeUnavailable("the session store cannot be read")
        }
        guard let session else { return nil }
        return try await principal(keyHash: session.keyHash)
    }

    /// The live key with this hash as a principal (kept 5 s), or `nil`.
    /// `CA_ADMIN_KEY` is the bootstrap admin key (hashes compared in constant time).
    private func principal(keyHash hash: String) async throws -> RequestPrincipal? {
        if let adminKey, !adminKey.isEmpty, APIKeys.constantTimeEqual(hash, APIKeys.hash(adminKey)) {
            return RequestPrincipal(name: "admin", admin: true)
        }
        let now = ContinuousClock.now
        if let known = keys.value(for: hash, now: now) { return known }
        let record: APIKeyRecord?
        do { record = try await store.key(hash: hash) } catch {
            throw APIProblem.storeUnavailable("the key store cannot be read")
        }
        guard let record else {
            keys.remove(hash)
            return nil
        }
        let principal = RequestPrincipal(name: record.name, admin: record.admin, notifyURL: record.notifyURL, maxCostUSD: record.maxCostUSD)
        keys.store(principal, for: hash, at: now)
        return principal
    }
}

import AgentCore
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Checks `Authorization: Bearer <key>` on every operation but health, readiness, metrics and
/// the document, and sets ``RequestPrincipal/current`` for the handler.
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

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if Self.open.contains(operationID) { return try await next(request, body, metadata) }
        guard let principal = try await authenticate(request.headerFields[.authorization]) else { throw APIProblem.unauthorized }
        return try await RequestPrincipal.$current.withValue(principal) { try await next(request, body, metadata) }
    }

    func authenticate(_ header: String?) async throws -> RequestPrincipal? {
        guard let header, header.count <= 512 else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let key = parts[1].trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty else { return nil }
        if let adminKey, !adminKey.isEmpty, APIKeys.constantTimeEqual(key, adminKey) {
            return RequestPrincipal(name: "admin", admin: true)
        }
        let hash = APIKeys.hash(key)
        let now = ContinuousClock.now
        if let known = keys.value(for: hash, now: now) { return known }
        let record: APIKeyRecord?
        do { record = try await store.key(hash: hash) } catch {
            throw APIProblem(status: 503, code: "store_unavailable", title: "Service Unavailable", detail: "the key store cannot be read")
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

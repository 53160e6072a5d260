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
    let keys = APIKeyCache()

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
        let store = self.store
        let hash = APIKeys.hash(key)
        return try await keys.principal(hash: hash) {
            let record: APIKeyRecord?
            do { record = try await store.key(hash: hash) } catch {
                throw APIProblem(status: 503, code: "store_unavailable", title: "Service Unavailable", detail: "the key store cannot be read")
            }
            return record.map { RequestPrincipal(name: $0.name, admin: $0.admin) }
        }
    }
}

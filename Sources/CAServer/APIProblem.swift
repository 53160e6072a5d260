import AgentCore
import CAAPI
import Foundation
import HTTPTypes

/// An error a handler answers with: an RFC 9457 problem (`application/problem+json`) with a
/// stable `code`. ``ProblemMiddleware`` turns it into the response.
public struct APIProblem: Error, Sendable, Hashable {
    public var status: Int
    public var code: String
    public var title: String
    public var detail: String?
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: [String: String]

    public init(status: Int, code: String, title: String, detail: String? = nil, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = headers
    }

    static func invalid(_ detail: String) -> APIProblem {
        APIProblem(status: 400, code: "invalid_request", title: "Invalid request", detail: detail)
    }

    static func unprocessable(_ code: String, _ detail: String) -> APIProblem {
        APIProblem(status: 422, code: code, title: "Request cannot be carried out", detail: detail)
    }

    static func storeUnavailable(_ detail: String) -> APIProblem {
        APIProblem(status: 503, code: "store_unavailable", title: "Service Unavailable", detail: detail)
    }

    static func notFound(_ id: String) -> APIProblem {
        APIProblem(status: 404, code: "task_not_found", title: "Not Found", detail: "no task with id '\(id)'")
    }

    static let unauthorized = APIProblem(status: 401, code: "unauthorized", title: "Unauthorized",
                                         detail: "send an API key as 'Authorization: Bearer <key>'",
                                         headers: ["WWW-Authenticate": "Bearer"])

    static let shuttingDown = APIProblem(status: 503, code: "shutting_down", title: "Service Unavailable",
                                         detail: "the server is shutting down and takes no new tasks", headers: ["Retry-After": "30"])

    /// The problem for an engine error.
    static func from(_ error: TaskError) -> APIProblem {
        switch error {
        case .store(.taskNotFound(let id)): return .notFound(id)
        case .store(.ambiguousID(let prefix, let ids)):
            return APIProblem(status: 409, code: "ambiguous_id", title: "Ambiguous id", detail: "'\(prefix)' matches \(ids.count) tasks")
        case .invalidArgument(let message): return .unprocessable("invalid_task", message)
        case .repositoryUnreachable: return .unprocessable("repository_unreachable", error.description)
        case .notResumable: return APIProblem(status: 409, code: "not_resumable", title: "Conflict", detail: error.description)
        case .conflict(let message): return APIProblem(status: 409, code: "idempotency_conflict", title: "Conflict", detail: message)
        case .sandbox(.configuration(let message)):
            return .unprocessable("backend_not_configured", "this server cannot use that sandbox backend: \(message)")
        case .missingCredentials, .missingAgent, .sandbox(.missingDependency), .sandbox(.unauthorized):
            return APIProblem(status: 503, code: "server_not_configured", title: "Service Unavailable",
                              detail: "the server cannot run tasks: \(error.description)")
        case .github(let problem, let message):
            switch problem {
            case .notFound: return APIProblem(status: 422, code: "github_not_found", title: "Request cannot be carried out", detail: message)
            case .access: return .unprocessable("github_access", message)
            case .rejected: return .unprocessable("github_rejected", message)
            case .rateLimited:
                return APIProblem(status: 503, code: "github_rate_limited", title: "Service Unavailable", detail: message, headers: ["Retry-After": "60"])
            case .unavailable: return APIProblem(status: 503, code: "github_unavailable", title: "Service Unavailable", detail: message)
            }
        case .sandbox, .store, .step, .server, .serverUnreachable, .applyRefused:
            return APIProblem(status: 500, code: "internal_error", title: "Internal Server Error", detail: error.description)
        }
    }

    /// The response body.
    var body: Components.Schemas.Problem {
        Components.Schemas.Problem(_type: "https://ca.invalid/problems/\(code)", title: title, status: status, detail: detail, code: code)
    }

    /// The response body as JSON, with `instance` set to the request path (see
    /// ``ProblemMiddleware/instance(_:)``).
    func encoded(path: String?) -> Data {
        var document = body
        document.instance = ProblemMiddleware.instance(path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(document)) ?? Data(#"{"status":500}"#.utf8)
    }
}

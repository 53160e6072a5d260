import Foundation
import HTTPTypes
import Hummingbird

/// Answers requests that no operation matched with a problem instead of an empty 404: a known
/// path with another method gets 405 and `Allow`, anything else 404 `route_not_found`.
struct UnmatchedRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    let table: RouteTable
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let problem: APIProblem
            var headers = HTTPFields()
            if let methods = table.methods(for: request.uri.path), !methods.isEmpty {
                problem = APIProblem(status: 405, code: "method_not_allowed", title: "Method Not Allowed",
                                     detail: "this path takes " + methods.map(\.rawValue).joined(separator: ", "))
                headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
            } else {
                problem = APIProblem(status: 404, code: "route_not_found", title: "Not Found", detail: "no such API path")
            }
            metrics.countRequest(operation: "unmatched", status: problem.status)
            headers[.contentType] = "application/problem+json"
            let body = problem.encoded(path: request.uri.path)
            return Response(status: .init(code: problem.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}

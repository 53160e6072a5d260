import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Adds the API key to every request, and turns every error response into a ``RemoteProblem``
/// before the generated client decodes it (every operation answers errors the same way).
struct RemoteProblemMiddleware: ClientMiddleware {
    let token: String?

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        if let token, !token.isEmpty { request.headerFields[.authorization] = "Bearer \(token)" }
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status.code >= 400 else { return (response, responseBody) }
        var data = Data()
        if let responseBody {
            for try await chunk in responseBody {
                data.append(contentsOf: chunk.prefix(max(0, 65_536 - data.count)))
                if data.count >= 65_536 { break }
            }
        }
        throw RemoteProblem(status: response.status.code, body: data)
    }
}

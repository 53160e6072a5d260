import AgentCore
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Turns what handlers and the OpenAPI runtime throw into `application/problem+json`
/// responses (RFC 9457) with a stable `code`, so that nothing a client sends yields a 5xx
/// without a reason, and counts responses for `/metrics`.
struct ProblemMiddleware: ServerMiddleware {
    let metrics: ServerMetrics

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            let (response, responseBody) = try await next(request, body, metadata)
            metrics.countRequest(operation: operationID, status: response.status.code)
            return (response, responseBody)
        } catch {
            let problem = Self.problem(for: error)
            metrics.countRequest(operation: operationID, status: problem.status)
            var fields = HTTPFields()
            fields[.contentType] = "application/problem+json"
            for (name, value) in problem.headers {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            return (HTTPResponse(status: .init(code: problem.status), headerFields: fields), HTTPBody(problem.encoded(path: request.path)))
        }
    }

    /// The request path as the problem's `instance`: a valid URI reference (anything outside
    /// the path characters of RFC 3986 percent-encoded), without the query, at most 2 KiB.
    static func instance(_ path: String?) -> String {
        let raw = Array((path ?? "").utf8.prefix { $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }.prefix(2048))
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/!$&'()*+,;=:@".utf8)
        let hex = Set("0123456789ABCDEFabcdef".utf8)
        var out = ""
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            if allowed.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else if byte == UInt8(ascii: "%"), index + 2 < raw.count, hex.contains(raw[index + 1]), hex.contains(raw[index + 2]) {
                out.append("%")
            } else {
                out += String(format: "%%%02X", byte)
            }
            index += 1
        }
        return out
    }

    /// The problem for an error thrown by a handler, a middleware, or the runtime (bad JSON,
    /// wrong content type).
    static func problem(for error: any Error) -> APIProblem {
        if let problem = error as? APIProblem { return problem }
        if let taskError = error as? TaskError { return .from(taskError) }
        guard let serverError = error as? ServerError else {
            return APIProblem(status: 500, code: "internal_error", title: "Internal Server Error")
        }
        if let problem = serverError.underlyingError as? APIProblem { return problem }
        if let taskError = serverError.underlyingError as? TaskError { return .from(taskError) }
        // Thrown by the runtime while decoding the request.
        switch serverError.httpStatus.code {
        case 406: return APIProblem(status: 406, code: "not_acceptable", title: "Not Acceptable", detail: "no acceptable media type")
        case 415: return APIProblem(status: 415, code: "unsupported_media_type", title: "Unsupported Media Type",
                                    detail: "send application/json")
        default:
            if serverError.underlyingError is DecodingError || serverError.httpStatus.code == 400 || serverError.operationInput == nil {
                return .invalid("the request does not match the API: \(Self.describe(serverError.underlyingError))")
            }
            return APIProblem(status: 500, code: "internal_error", title: "Internal Server Error")
        }
    }

    /// A short, safe description of a decoding error (no request data beyond field names).
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "malformed JSON" : "invalid value at '\(path)'"
        default: return String(String(describing: error).prefix(200))
        }
    }
}

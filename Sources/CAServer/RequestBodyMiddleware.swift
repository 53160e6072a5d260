import CAAPI
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Reads request bodies with a size limit before anything decodes them, and refuses JSON
/// objects that send `null` for one of their fields: the document declares no nullable request
/// field, and a `null` would otherwise pass as "not given". (Unknown fields are ignored, `null`
/// or not.)
struct RequestBodyMiddleware: ServerMiddleware {
    let maximumSize: Int
    /// The limit of `POST /v1/bundles` (a repository, not JSON).
    let maximumBundleSize: Int

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let body else { return try await next(request, nil, metadata) }
        let bundle = operationID == "uploadBundle"
        let maximumSize = bundle ? maximumBundleSize : self.maximumSize
        let tooLarge = APIProblem(status: 413, code: "payload_too_large", title: "Content Too Large",
                                  detail: bundle ? "the bundle is over this server's limit of \(maximumSize) bytes (--max-bundle-mib)"
                                                 : "the request body is over \(maximumSize) bytes")
        if case .known(let length) = body.length, length > maximumSize { throw tooLarge }
        var data = Data()
        for try await chunk in body {
            guard data.count + chunk.count <= maximumSize else { throw tooLarge }
            data.append(contentsOf: chunk)
        }
        if !bundle, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let field = object.first(where: { $0.value is NSNull && Self.isField($0.key, of: operationID) })?.key {
                throw APIProblem.invalid("'\(String(field.unicodeScalars.prefix(64)))' must not be null: leave a field out to use its default")
            }
            // The one nested object of a request body.
            if Self.isField("open_pull_request", of: operationID), let nested = object["open_pull_request"] as? [String: Any],
               let field = nested.first(where: { $0.value is NSNull && Components.Schemas.OpenPullRequest.CodingKeys(rawValue: $0.key) != nil })?.key {
                throw APIProblem.invalid("'open_pull_request.\(field)' must not be null: leave a field out to use its default")
            }
        }
        return try await next(request, HTTPBody(data), metadata)
    }

    /// Whether `key` is a property of the request body of the operation.
    static func isField(_ key: String, of operationID: String) -> Bool {
        switch operationID {
        case "createTask": return Components.Schemas.CreateTaskRequest.CodingKeys(rawValue: key) != nil
        case "resumeTask": return Components.Schemas.ResumeTaskRequest.CodingKeys(rawValue: key) != nil
        case "createReview": return Components.Schemas.CreateReviewRequest.CodingKeys(rawValue: key) != nil
        default: return false
        }
    }
}

import Foundation

/// An error of a Connect RPC: a code string such as `not_found`, and a message.
///
/// Unary calls carry it as a non-200 JSON body; streams carry it in the end-of-stream message.
struct ConnectError: Error, Sendable, Hashable {
    var code: String
    var message: String
    /// HTTP status that carried the error (200 inside a stream).
    var httpStatus: Int

    init(code: String, message: String, httpStatus: Int = 200) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    /// Decodes a unary error body per the Connect protocol: a string `code` is the Connect code; an
    /// integer or missing one is derived from the HTTP status; a non-JSON body becomes `unknown`.
    init(httpStatus: Int, body: Data) {
        let fallback = Self.code(forHTTPStatus: httpStatus)
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            let text = String(decoding: body.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            self.init(code: "unknown", message: text.isEmpty ? "HTTP \(httpStatus)" : text, httpStatus: httpStatus)
            return
        }
        let code = (object["code"] as? String) ?? fallback
        let message = (object["message"] as? String) ?? "HTTP \(httpStatus)"
        self.init(code: code, message: message, httpStatus: httpStatus)
    }

    /// Decodes the `error` object of an end-of-stream message.
    init?(endOfStreamPayload payload: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
              let error = object["error"] as? [String: Any] else {
            return nil
        }
        self.init(code: (error["code"] as? String) ?? "unknown", message: (error["message"] as? String) ?? "")
    }

    /// The Connect code that an HTTP status stands for.
    static func code(forHTTPStatus status: Int) -> String {
        switch status {
        case 400: return "invalid_argument"
        case 401: return "unauthenticated"
        case 403: return "permission_denied"
        case 404: return "not_found"
        case 409: return "already_exists"
        case 413, 429: return "resource_exhausted"
        case 499: return "canceled"
        case 500: return "internal"
        case 501, 505: return "unimplemented"
        case 502, 503: return "unavailable"
        case 504: return "deadline_exceeded"
        default: return "unknown"
        }
    }

    /// The matching ``SandboxError``.
    ///
    /// - Parameter subject: What the call was about (a path, a pid), prefixed to the message.
    func sandboxError(subject: String) -> SandboxError {
        let detail = message.isEmpty ? subject : "\(subject): \(message)"
        switch code {
        case "unauthenticated": return .unauthorized(detail)
        case "not_found": return .fileNotFound(detail)
        case "invalid_argument", "failed_precondition", "out_of_range", "already_exists": return .invalidArgument(detail)
        case "resource_exhausted": return .limitReached(detail)
        case "unavailable": return .sandboxNotFound("sandbox unavailable (timed out or killed): \(detail)")
        case "permission_denied": return .io("permission denied: \(detail)")
        case "canceled", "deadline_exceeded": return .transport("\(code): \(detail)")
        default: return .server(status: httpStatus, message: "\(code): \(detail)")
        }
    }
}

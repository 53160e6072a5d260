import AgentCore
import Foundation

/// A problem (`application/problem+json`, RFC 9457) a `ca serve` answered with.
struct RemoteProblem: Error, Sendable, Hashable {
    var status: Int
    var code: String
    var detail: String

    /// Reads a problem body; anything else becomes a problem with the status and a generic code.
    init(status: Int, body: Data) {
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        self.status = status
        // What a server sends is shown to the user: keep it short and one line.
        func clean(_ text: String?) -> String? {
            text.map { String($0.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(500).map(Character.init)) }
        }
        self.code = clean(object?["code"] as? String) ?? "http_\(status)"
        self.detail = clean(object?["detail"] as? String) ?? clean(object?["title"] as? String) ?? "HTTP status \(status)"
    }

    /// The engine error for this problem; `id` is the task id or prefix the request named.
    func taskError(id: String?, resuming: Bool = false) -> TaskError {
        switch code {
        case "task_not_finished" where resuming: return .notResumable(detail)
        case "task_not_found": return .store(.taskNotFound(id ?? "?"))
        case "ambiguous_id": return .store(.ambiguousID(id ?? "?", []))
        case "not_resumable": return .notResumable(detail)
        case "task_not_finished", "no_patch", "file_not_found": return .step(detail)
        case "idempotency_conflict": return .conflict(detail)
        case "invalid_request", "invalid_parameter", "invalid_task", "prompt_too_large": return .invalidArgument(detail)
        default: return .server(status: status, code: code, message: detail)
        }
    }
}

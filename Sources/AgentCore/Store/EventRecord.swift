import Foundation
import GRDB

/// One line of a task's log: a Claude Code stream-json event, or a note from ca itself.
///
/// Events are append-only and ordered by ``sequence`` within a task.
public struct EventRecord: Sendable, Codable, Hashable {
    public var taskID: String
    /// 1-based position in the task's log.
    public var sequence: Int
    /// `type` of the stream-json line (`system`, `assistant`, `user`, `result`, …) or `ca` for ca's own notes.
    public var type: String
    public var subtype: String?
    public var createdAt: Date
    /// The JSON object, exactly as received (with secrets redacted).
    public var payload: String

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case sequence = "seq"
        case type, subtype
        case createdAt = "created_at"
        case payload
    }

    public init(taskID: String, sequence: Int, type: String, subtype: String?, createdAt: Date, payload: String) {
        self.taskID = taskID
        self.sequence = sequence
        self.type = type
        self.subtype = subtype
        self.createdAt = createdAt
        self.payload = payload
    }
}

extension EventRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "event"
}

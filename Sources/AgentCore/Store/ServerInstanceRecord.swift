import Foundation
import GRDB

/// One running (or stopped) `ca serve` process, with its heartbeat: crash recovery tells a task
/// waiting in a live server's queue from one that a dead server left behind.
public struct ServerInstanceRecord: Sendable, Hashable, Codable {
    public var id: String
    public var pid: Int
    public var host: String
    public var startedAt: Date
    public var heartbeatAt: Date
    public var stoppedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, pid, host
        case startedAt = "started_at"
        case heartbeatAt = "heartbeat_at"
        case stoppedAt = "stopped_at"
    }

    public init(id: String, pid: Int, host: String, startedAt: Date = Date(), heartbeatAt: Date = Date()) {
        self.id = id
        self.pid = pid
        self.host = host
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.stoppedAt = nil
    }
}

extension ServerInstanceRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "server_instance"
}

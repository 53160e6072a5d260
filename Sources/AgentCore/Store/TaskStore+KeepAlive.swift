import Foundation
import GRDB

/// Paused sandboxes kept for `--keep-alive` (see ``KeepAlive``).
extension TaskStore {
    /// A paused sandbox taken off a task: whoever took it owns it (resumes it or kills it).
    public struct PausedSandbox: Sendable, Hashable {
        public var taskID: String
        public var sandboxID: String
        public var until: Date
    }

    /// Records that task `id` holds `sandboxID` paused until `until` (durably: it must not be forgotten).
    public func recordPausedSandbox(taskID: String, sandboxID: String, until: Date) async throws(StoreError) {
        try await update(taskID, durable: true) { t in
            t.pausedSandboxID = sandboxID
            t.pausedUntil = until
        }
    }

    /// Takes the paused sandbox off task `taskID` in one write transaction, so that of two
    /// callers (two resumes, a resume and `ca sandbox gc`) only one gets it. With `expiredAt`,
    /// only a sandbox whose window ended by then is taken. Returns `nil` when there is none (left).
    public func takePausedSandbox(taskID: String, expiredAt: Date? = nil) async throws(StoreError) -> PausedSandbox? {
        let taken: PausedSandbox? = try await writeDurably { db in
            guard var task = try TaskRecord.fetchOne(db, key: taskID), let sandboxID = task.pausedSandboxID else { return nil }
            let until = task.pausedUntil ?? .distantPast
            if let expiredAt, until > expiredAt { return nil }
            task.pausedSandboxID = nil
            task.pausedUntil = nil
            try task.update(db)
            return PausedSandbox(taskID: taskID, sandboxID: sandboxID, until: until)
        }
        if taken != nil { noteChange(of: taskID) }
        return taken
    }

    /// Tasks holding a paused sandbox whose window ended by `now` (or that has no window on record).
    public func tasksWithExpiredPausedSandboxes(now: Date) async throws(StoreError) -> [TaskRecord] {
        try await read { db in
            try TaskRecord
                .filter(Column("paused_sandbox_id") != nil)
                .filter(Column("paused_until") == nil || Column("paused_until") <= now)
                .fetchAll(db)
        }
    }

    /// Tasks holding a paused sandbox (any window).
    public func tasksWithPausedSandboxes() async throws(StoreError) -> [TaskRecord] {
        try await read { db in
            try TaskRecord.filter(Column("paused_sandbox_id") != nil).fetchAll(db)
        }
    }

    /// The tasks that use or hold sandbox `id`: running in it (`sandbox_id`) or keeping it paused.
    public func tasks(usingSandbox id: String) async throws(StoreError) -> [TaskRecord] {
        try await read { db in
            try TaskRecord.filter(Column("sandbox_id") == id || Column("paused_sandbox_id") == id).fetchAll(db)
        }
    }
}

import Foundation
import GRDB

/// The attempts of best-of-N runs (see ``TaskAttempts``).
extension TaskStore {
    /// Stores a best-of-N parent and its attempts in one transaction; with an idempotency key, as
    /// ``insert(_:idempotencyKey:fingerprint:)`` (the key names the parent).
    public func insert(parent: TaskRecord, attempts: [TaskRecord], idempotency: (key: String, fingerprint: String)?) async throws(StoreError) -> String? {
        try await writeDurably { db in
            if let idempotency {
                if let existing = try String.fetchOne(db, sql: "SELECT task_id FROM idempotency WHERE owner = ? AND key = ?",
                                                      arguments: [parent.owner ?? "", idempotency.key]) {
                    return existing
                }
            }
            try parent.insert(db)
            for attempt in attempts { try attempt.insert(db) }
            if let idempotency {
                try db.execute(sql: "INSERT INTO idempotency (owner, key, fingerprint, task_id, created_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [parent.owner ?? "", idempotency.key, idempotency.fingerprint, parent.id, Date()])
            }
            return nil
        }
    }

    /// The attempts of parent `parentID`, by number.
    public func attempts(of parentID: String) async throws(StoreError) -> [TaskRecord] {
        try await read { db in
            try TaskRecord.filter(Column("attempt_of") == parentID).order(Column("attempt")).fetchAll(db)
        }
    }

    /// Derives parent `parentID`'s status, cost and tokens from its attempts, in one transaction
    /// (see ``TaskAttempts/settle(_:attempts:now:)``). Returns the parent as stored, and whether
    /// this call ended it (of concurrent callers, exactly one sees that).
    @discardableResult
    public func settleAttempts(of parentID: String) async throws(StoreError) -> (parent: TaskRecord, ended: Bool) {
        let settled = try await writeDurably { db -> (parent: TaskRecord, ended: Bool) in
            guard var parent = try TaskRecord.fetchOne(db, key: parentID) else { throw StoreError.taskNotFound(parentID) }
            let attempts = try TaskRecord.filter(Column("attempt_of") == parentID).order(Column("attempt")).fetchAll(db)
            let before = parent
            TaskAttempts.settle(&parent, attempts: attempts)
            if parent != before { try parent.update(db) }
            return (parent, !before.status.isTerminal && parent.status.isTerminal)
        }
        noteChange(of: parentID)
        return settled
    }

    /// Asks parent `parentID` and its attempts to stop: queued attempts no runner holds are
    /// cancelled at once, running ones see `cancel_requested` within a second.
    public func cancelAttempts(of parentID: String) async throws(StoreError) {
        let ids = try await writeDurably { db -> [String] in
            let now = Date()
            try db.execute(sql: "UPDATE task SET cancel_requested = 1 WHERE id = ?", arguments: [parentID])
            var changed = [parentID]
            for var attempt in try TaskRecord.filter(Column("attempt_of") == parentID).fetchAll(db) where !attempt.status.isTerminal {
                attempt.cancelRequested = true
                if attempt.status == .queued && attempt.runnerPID == nil {
                    attempt.status = .cancelled
                    attempt.error = "cancelled by request"
                    attempt.finishedAt = now
                }
                try attempt.update(db)
                changed.append(attempt.id)
            }
            return changed
        }
        for id in ids { noteChange(of: id) }
    }
}

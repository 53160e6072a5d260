import Foundation
import GRDB

/// The web dashboard's sign-in sessions (see ``WebSessionRecord``).
extension TaskStore {
    /// Stores a new session and drops the ones that expired before `now`.
    public func insert(session: WebSessionRecord, now: Date = Date()) async throws(StoreError) {
        try await writeDurably { db in
            try WebSessionRecord.filter(Column("expires_at") <= now).deleteAll(db)
            try session.insert(db)
        }
    }

    /// The unexpired session with this token hash, or `nil`.
    public func session(tokenHash: String, now: Date = Date()) async throws(StoreError) -> WebSessionRecord? {
        try await read { db in
            try WebSessionRecord.filter(Column("token_hash") == tokenHash && Column("expires_at") > now).fetchOne(db)
        }
    }

    /// Ends a session (sign-out). Returns `false` when there was none.
    @discardableResult
    public func deleteSession(tokenHash: String) async throws(StoreError) -> Bool {
        try await writeDurably { db in try WebSessionRecord.deleteOne(db, key: tokenHash) }
    }
}

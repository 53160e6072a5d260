import Foundation
import GRDB

/// What `ca serve` keeps in the store besides tasks: API keys, idempotency keys, its queue and
/// its own heartbeat.
extension TaskStore {
    // MARK: API keys

    /// Stores a new key. Throws ``StoreError/database(_:)`` when the name is taken.
    public func insert(key: APIKeyRecord) async throws(StoreError) {
        try await writeDurably { db in
            if try APIKeyRecord.fetchOne(db, key: key.name) != nil {
                throw StoreError.database("a key named '\(key.name)' exists already")
            }
            try key.insert(db)
        }
    }

    /// All keys, oldest first.
    public func keys() async throws(StoreError) -> [APIKeyRecord] {
        try await read { db in try APIKeyRecord.order(Column("created_at"), Column("name")).fetchAll(db) }
    }

    /// The live key with this hash, or `nil`.
    public func key(hash: String) async throws(StoreError) -> APIKeyRecord? {
        try await read { db in try APIKeyRecord.filter(Column("hash") == hash && Column("revoked_at") == nil).fetchOne(db) }
    }

    /// Revokes a key. Returns `false` when there is no live key of that name.
    @discardableResult
    public func revokeKey(name: String) async throws(StoreError) -> Bool {
        try await writeDurably { db in
            guard var key = try APIKeyRecord.fetchOne(db, key: name), key.revokedAt == nil else { return false }
            key.revokedAt = Date()
            try key.update(db)
            return true
        }
    }

    // MARK: Idempotency

    /// The task an earlier request with the same owner and `Idempotency-Key` created, with the
    /// fingerprint of that request's body.
    public func idempotentTask(owner: String, key: String) async throws(StoreError) -> (taskID: String, fingerprint: String)? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT task_id, fingerprint FROM idempotency WHERE owner = ? AND key = ?",
                                             arguments: [owner, key]) else { return nil }
            return (row["task_id"], row["fingerprint"])
        }
    }

    /// Stores a new task and its idempotency key in one transaction. When another request with
    /// the same key won the race, nothing is stored and its task id is returned.
    public func insert(_ task: TaskRecord, idempotencyKey key: String, fingerprint: String) async throws(StoreError) -> String? {
        try await writeDurably { db in
            if let existing = try String.fetchOne(db, sql: "SELECT task_id FROM idempotency WHERE owner = ? AND key = ?",
                                                  arguments: [task.owner ?? "", key]) {
                return existing
            }
            try task.insert(db)
            try db.execute(sql: "INSERT INTO idempotency (owner, key, fingerprint, task_id, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [task.owner ?? "", key, fingerprint, task.id, Date()])
            return nil
        }
    }

    // MARK: Listing for owners

    /// Tasks of one owner (all owners when `nil`), newest first, starting after the task
    /// `before` (the cursor: `(created_at, id)` of the last task of the previous page); only the
    /// tasks resumed from `parentID` when given.
    public func list(owner: String?, status: TaskStatus?, parentID: String? = nil, limit: Int,
                     before cursor: (Date, String)?) async throws(StoreError) -> [TaskRecord] {
        try await read { db in
            var request = TaskRecord.all()
            if let owner { request = request.filter(Column("owner") == owner) }
            if let parentID { request = request.filter(Column("parent_id") == parentID) }
            request = request.filter(Column("attempt_of") == nil)
            if let status { request = request.filter(Column("status") == status.rawValue) }
            if let (date, id) = cursor {
                request = request.filter(Column("created_at") < date || (Column("created_at") == date && Column("id") > id))
            }
            return try request.order(Column("created_at").desc, Column("id")).limit(limit).fetchAll(db)
        }
    }

    // MARK: The queue

    /// Claims the oldest task waiting in `instance`'s queue for this process (it stays `queued`
    /// until its runner starts it), unless `maximumRunning` tasks of the instance (or
    /// `maximumPerOwner` of that task's owner) are claimed or running already. One transaction,
    /// so two claimers never get the same task.
    public func claimNextQueued(instance: String, pid: Int, host: String, maximumRunning: Int,
                                maximumPerOwner: Int?) async throws(StoreError) -> TaskRecord? {
        try await writeDurably { db in
            let active = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM task WHERE queued_by = ? AND runner_pid IS NOT NULL AND status IN ('queued', 'running')
                """, arguments: [instance]) ?? 0
            guard active < maximumRunning else { return nil }
            let waiting = try TaskRecord
                .filter(Column("status") == TaskStatus.queued.rawValue && Column("queued_by") == instance && Column("runner_pid") == nil)
                .filter(Column("attempts") == nil)
                .order(Column("created_at"), Column("id"))
                .limit(50)
                .fetchAll(db)
            for candidate in waiting {
                if let maximumPerOwner, let owner = candidate.owner {
                    let busy = try Int.fetchOne(db, sql: """
                        SELECT COUNT(*) FROM task WHERE owner = ? AND runner_pid IS NOT NULL AND status IN ('queued', 'running')
                        """, arguments: [owner]) ?? 0
                    if busy >= maximumPerOwner { continue }
                }
                var task = candidate
                task.runnerPID = pid
                task.runnerHost = host
                task.heartbeatAt = Date()
                try task.update(db)
                return task
            }
            return nil
        }
    }

    /// Moves the queues of server instances that are gone (stopped, or no heartbeat since
    /// `staleBefore`) to `instance`, forgetting claims that never started. Returns how many.
    public func adoptQueuedTasks(to instance: String, staleBefore: Date) async throws(StoreError) -> Int {
        try await writeDurably { db in
            try db.execute(sql: """
                UPDATE task SET queued_by = ?, runner_pid = NULL, runner_host = NULL
                WHERE status = 'queued' AND queued_by IS NOT NULL AND queued_by != ?
                  AND queued_by NOT IN (SELECT id FROM server_instance WHERE stopped_at IS NULL AND heartbeat_at >= ?)
                """, arguments: [instance, instance, staleBefore])
            return db.changesCount
        }
    }

    /// Tasks waiting in an instance's queue.
    public func queueDepth(instance: String) async throws(StoreError) -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM task WHERE status = 'queued' AND queued_by = ?", arguments: [instance]) ?? 0
        }
    }

    /// Counts of tasks by status.
    public func countsByStatus() async throws(StoreError) -> [TaskStatus: Int] {
        try await read { db in
            var counts: [TaskStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM task GROUP BY status") {
                if let status = TaskStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    // MARK: Server instances

    /// Records a server instance (or its heartbeat).
    public func save(instance: ServerInstanceRecord) async throws(StoreError) {
        try await write { db in try instance.save(db) }
    }

    /// A server instance, or `nil`.
    public func instance(id: String) async throws(StoreError) -> ServerInstanceRecord? {
        try await read { db in try ServerInstanceRecord.fetchOne(db, key: id) }
    }

    /// Tasks an instance left `queued` or `running`, for a restarted server to take over.
    public func tasks(queuedBy instance: String, statuses: [TaskStatus]) async throws(StoreError) -> [TaskRecord] {
        try await read { db in
            try TaskRecord
                .filter(Column("queued_by") == instance && statuses.map(\.rawValue).contains(Column("status")))
                .order(Column("created_at"), Column("id"))
                .fetchAll(db)
        }
    }
}

extension TaskStore {
    /// ``resolve(_:)`` among one owner's tasks (all tasks when `owner` is `nil`), so that an id
    /// prefix says nothing about other owners' tasks.
    public func resolve(_ idOrPrefix: String, owner: String?) async throws(StoreError) -> TaskRecord {
        guard let owner else { return try await resolve(idOrPrefix) }
        let needle = idOrPrefix.trimmingCharacters(in: .whitespaces)
        guard !needle.isEmpty, needle.count <= 64, needle.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw StoreError.taskNotFound(idOrPrefix)
        }
        let matches: [TaskRecord] = try await read { db in
            try TaskRecord
                .filter(Column("owner") == owner && Column("id") >= needle && Column("id") < needle + "\u{10FFFF}")
                .limit(6)
                .fetchAll(db)
        }
        if let exact = matches.first(where: { $0.id == needle }) { return exact }
        switch matches.count {
        case 0: throw StoreError.taskNotFound(idOrPrefix)
        case 1: return matches[0]
        default: throw StoreError.ambiguousID(idOrPrefix, matches.prefix(5).map(\.id))
        }
    }
}

import Foundation
import GRDB
import Synchronization

/// ca's history: tasks, their events and their artifacts, in one SQLite file.
///
/// The database runs in WAL mode so that one `ca` process can run a task and write its
/// events while others read them. Writers wait up to ``busyTimeout`` for each other.
public final class TaskStore: Sendable {
    /// How long a write waits for another process's write to finish.
    public static let busyTimeout: TimeInterval = 15

    /// Reads go here: the pool, or one read-only connection.
    private let reader: any DatabaseReader
    /// Writes go here; `nil` for a store opened ``Access/readOnly``.
    private let pool: DatabasePool?
    /// Path of the SQLite file.
    public let path: String
    /// Change stamps of tasks, in stripes by id: bumped after every committed ``update(_:durable:_:)``
    /// made through this store (see ``changeStamp(of:)``).
    private let stamps = Mutex([UInt64](repeating: 0, count: 1024))
    /// A random id made when the store was created, which tags every sandbox it starts
    /// (`ca.installation`), so that `ca sandbox gc` on one machine never touches sandboxes
    /// another installation (a teammate's, a server's) runs on the same cloud account.
    public let installationID: String

    /// How a store is opened.
    public enum Access: Sendable, Hashable {
        /// Reads and writes; creates and migrates the database.
        case readWrite
        /// Reads only, through one read-only connection: no transaction, checkpoint or sync
        /// (SQLite still maps its shared-memory index). A database that does not exist yet or
        /// needs a migration is opened ``readWrite`` instead.
        case readOnly
    }

    /// Whether writes are possible (``Access/readWrite``).
    public var isWritable: Bool { pool != nil }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// A new database (and the folder it is created in) is private to the user: the folder 0700,
    /// the file 0600 (SQLite gives its `-wal` and `-shm` files the same mode). A database whose
    /// schema is newer than this binary knows is refused with ``StoreError/newerSchema(path:unknownMigrations:)``.
    public init(path: String, access: Access = .readWrite) throws(StoreError) {
        self.path = path
        let migrator = Self.migrator
        if access == .readOnly, FileManager.default.fileExists(atPath: path) {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(Self.busyTimeout)
            do {
                let queue = try DatabaseQueue(path: path, configuration: configuration)
                let (unknown, complete, installation) = try queue.read { db in
                    (try Self.unknownMigrations(db, migrator), try migrator.hasCompletedMigrations(db),
                     try String.fetchOne(db, sql: "SELECT id FROM installation LIMIT 1"))
                }
                guard unknown.isEmpty else { throw StoreError.newerSchema(path: path, unknownMigrations: unknown) }
                if complete, let installation {
                    reader = queue
                    pool = nil
                    installationID = installation
                    return
                }
            } catch let error as StoreError {
                throw error
            } catch {
                // Not readable as it is (new, or mid-creation): open it for writing below.
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let pool: DatabasePool
        do {
            try Self.createPrivately(path)
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError.database("cannot open \(path): \(error)")
        }
        let unknown: [String]
        do {
            unknown = try pool.read { db in try Self.unknownMigrations(db, migrator) }
        } catch {
            throw StoreError.database("cannot read the schema of \(path): \(error)")
        }
        guard unknown.isEmpty else { throw StoreError.newerSchema(path: path, unknownMigrations: unknown) }
        do {
            try migrator.migrate(pool)
            installationID = try pool.read { db in try String.fetchOne(db, sql: "SELECT id FROM installation LIMIT 1") } ?? "unknown"
        } catch {
            throw StoreError.database("cannot migrate \(path): \(error)")
        }
        self.pool = pool
        self.reader = pool
    }

    /// Migrations recorded in the database that this binary does not know.
    private static func unknownMigrations(_ db: Database, _ migrator: DatabaseMigrator) throws -> [String] {
        guard try migrator.hasBeenSuperseded(db) else { return [] }
        let known = Set(migrator.migrations)
        return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations").filter { !known.contains($0) }
    }

    /// Creates the database's folder (0700) and an empty database file (0600) when missing.
    private static func createPrivately(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "task") { t in
                t.primaryKey("id", .text)
                t.column("prompt", .text).notNull()
                t.column("repository_url", .text).notNull()
                t.column("branch", .text)
                t.column("base_commit", .text)
                t.column("parent_id", .text).indexed()
                t.column("status", .text).notNull().indexed()
                t.column("error", .text)
                t.column("sandbox_backend", .text).notNull()
                t.column("template", .text)
                t.column("sandbox_id", .text)
                t.column("session_id", .text)
                t.column("model", .text)
                t.column("max_turns", .integer)
                t.column("timeout_seconds", .integer).notNull()
                t.column("created_at", .datetime).notNull().indexed()
                t.column("started_at", .datetime)
                t.column("finished_at", .datetime)
                t.column("cost_usd", .double)
                t.column("input_tokens", .integer)
                t.column("output_tokens", .integer)
                t.column("num_turns", .integer)
                t.column("result", .text)
                t.column("runner_pid", .integer)
                t.column("runner_host", .text)
                t.column("heartbeat_at", .datetime)
                t.column("cancel_requested", .boolean).notNull().defaults(to: false)
            }
            try db.create(table: "event") { t in
                t.column("task_id", .text).notNull().references("task", onDelete: .cascade)
                t.column("seq", .integer).notNull()
                t.column("type", .text).notNull()
                t.column("subtype", .text)
                t.column("created_at", .datetime).notNull()
                t.column("payload", .text).notNull()
                t.primaryKey(["task_id", "seq"])
            }
            try db.create(table: "artifact") { t in
                t.column("task_id", .text).notNull().references("task", onDelete: .cascade).indexed()
                t.column("kind", .text).notNull()
                t.column("path", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("note", .text)
            }
        }
        migrator.registerMigration("v2-sandbox-policy") { db in
            try db.alter(table: "task") { t in
                t.add(column: "sandbox_policy", .jsonText)
            }
        }
        migrator.registerMigration("v3-installation") { db in
            try db.create(table: "installation") { t in
                t.column("id", .text).notNull()
            }
            try db.execute(sql: "INSERT INTO installation (id) VALUES (?)", arguments: [UUID().uuidString.lowercased()])
        }
        migrator.registerMigration("v4-server") { db in
            try db.alter(table: "task") { t in
                t.add(column: "owner", .text)
                t.add(column: "queued_by", .text)
            }
            try db.create(index: "task_owner_created", on: "task", columns: ["owner", "created_at"])
            try db.create(index: "task_queue", on: "task", columns: ["status", "queued_by", "created_at"])
            try db.create(table: "api_key") { t in
                t.primaryKey("name", .text)
                t.column("hash", .text).notNull().unique()
                t.column("admin", .boolean).notNull().defaults(to: false)
                t.column("created_at", .datetime).notNull()
                t.column("revoked_at", .datetime)
            }
            try db.create(table: "idempotency") { t in
                t.column("owner", .text).notNull()
                t.column("key", .text).notNull()
                t.column("fingerprint", .text).notNull()
                t.column("task_id", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.primaryKey(["owner", "key"])
            }
            try db.create(table: "server_instance") { t in
                t.primaryKey("id", .text)
                t.column("pid", .integer).notNull()
                t.column("host", .text).notNull()
                t.column("started_at", .datetime).notNull()
                t.column("heartbeat_at", .datetime).notNull()
                t.column("stopped_at", .datetime)
            }
        }
        migrator.registerMigration("v5-agent-offset") { db in
            try db.alter(table: "task") { t in
                t.add(column: "agent_offset", .integer)
            }
        }
        migrator.registerMigration("v6-github") { db in
            try db.alter(table: "task") { t in
                t.add(column: "github", .jsonText)
                t.add(column: "pull_request_url", .text)
                t.add(column: "pull_request_number", .integer)
                t.add(column: "pull_request_branch", .text)
                t.add(column: "review_url", .text)
            }
        }
        migrator.registerMigration("v7-notify") { db in
            try db.alter(table: "task") { t in
                t.add(column: "notify_url", .text)
                t.add(column: "notify_attempts", .integer)
                t.add(column: "notify_status", .text)
            }
        }
        migrator.registerMigration("v8-max-cost") { db in
            try db.alter(table: "task") { t in
                t.add(column: "max_cost_usd", .double)
                t.add(column: "failure_reason", .text)
                t.add(column: "session_cost_usd", .double)
            }
            try db.alter(table: "api_key") { t in
                t.add(column: "notify_url", .text)
                t.add(column: "max_cost_usd", .double)
            }
        }
        migrator.registerMigration("v10-attempts") { db in
            try db.alter(table: "task") { t in
                t.add(column: "attempts", .integer)
                t.add(column: "attempt_of", .text)
                t.add(column: "attempt", .integer)
            }
            try db.create(index: "task_attempt_of", on: "task", columns: ["attempt_of", "attempt"])
        }
        migrator.registerMigration("v9-keep-alive") { db in
            try db.alter(table: "task") { t in
                t.add(column: "keep_alive_seconds", .integer)
                t.add(column: "paused_sandbox_id", .text)
                t.add(column: "paused_until", .datetime)
            }
            try db.create(index: "task_paused_until", on: "task", columns: ["paused_until"])
            try db.create(index: "task_sandbox_id", on: "task", columns: ["sandbox_id"])
        }
        migrator.registerMigration("v11-web-sessions") { db in
            try db.create(table: "web_session") { t in
                t.primaryKey("token_hash", .text)
                t.column("key_hash", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
            }
            try db.create(index: "web_session_expires_at", on: "web_session", columns: ["expires_at"])
        }
        return migrator
    }

    // MARK: Tasks

    /// Stores a new task (durably, see ``update(_:durable:_:)``).
    public func insert(_ task: TaskRecord) async throws(StoreError) {
        try await writeDurably { db in try task.insert(db) }
    }

    /// The task with exactly this id, or `nil`.
    public func task(id: String) async throws(StoreError) -> TaskRecord? {
        try await read { db in try TaskRecord.fetchOne(db, key: id) }
    }

    /// Finds a task by its id or a unique prefix of it.
    public func resolve(_ idOrPrefix: String) async throws(StoreError) -> TaskRecord {
        let needle = idOrPrefix.trimmingCharacters(in: .whitespaces)
        guard !needle.isEmpty, needle.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw StoreError.taskNotFound(idOrPrefix)
        }
        let matches: [TaskRecord] = try await read { db in
            if let exact = try TaskRecord.fetchOne(db, key: needle) { return [exact] }
            return try TaskRecord
                .filter(sql: "id >= ? AND id < ?", arguments: [needle, needle + "\u{10FFFF}"])
                .limit(6)
                .fetchAll(db)
        }
        switch matches.count {
        case 0: throw StoreError.taskNotFound(idOrPrefix)
        case 1: return matches[0]
        default: throw StoreError.ambiguousID(idOrPrefix, matches.prefix(5).map(\.id))
        }
    }

    /// Reads a task, changes it and saves it in one transaction. Returns the saved task.
    ///
    /// - Parameter durable: commit with `synchronous=FULL` (the WAL is synced before this
    ///   returns), for the status changes that must survive a power loss. Events, heartbeats and
    ///   other frequent writes use `NORMAL`, which is durable at the next checkpoint.
    @discardableResult
    public func update(_ id: String, durable: Bool = false, _ change: @Sendable (inout TaskRecord) -> Void) async throws(StoreError) -> TaskRecord {
        let body: @Sendable (Database) throws -> TaskRecord = { db in
            guard var task = try TaskRecord.fetchOne(db, key: id) else { throw StoreError.taskNotFound(id) }
            change(&task)
            try task.update(db)
            return task
        }
        let task = durable ? try await writeDurably(body) : try await write(body)
        noteChange(of: id)
        return task
    }

    /// Bumps the change stamp of task `id` after a committed write (see ``changeStamp(of:)``).
    func noteChange(of id: String) {
        stamps.withLock { $0[Self.stripe(id)] &+= 1 }
    }

    /// A number that changes after each change of task `id` made through this store (and
    /// sometimes after changes of other tasks). A cache of tasks read after reading the stamp is
    /// current for this process's writes as long as the stamp stays the same; writes by other
    /// processes do not change it.
    public func changeStamp(of id: String) -> UInt64 {
        stamps.withLock { $0[Self.stripe(id)] }
    }

    private static func stripe(_ id: String) -> Int {
        Int(UInt(bitPattern: id.hashValue) % 1024)
    }

    /// Tasks, newest first.
    public func list(status: TaskStatus? = nil, limit: Int = 20, parentID: String? = nil) async throws(StoreError) -> [TaskRecord] {
        try await read { db in
            var request = TaskRecord.all()
            if let status { request = request.filter(Column("status") == status.rawValue) }
            if let parentID { request = request.filter(Column("parent_id") == parentID) }
            // The attempts of a best-of-N run are listed by their parent (``attempts(of:)``).
            request = request.filter(Column("attempt_of") == nil)
            return try request.order(Column("created_at").desc, Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// Tasks that are queued or running, for crash recovery.
    public func unfinishedTasks() async throws(StoreError) -> [TaskRecord] {
        try await read { db in
            try TaskRecord
                .filter([TaskStatus.queued.rawValue, TaskStatus.running.rawValue].contains(Column("status")))
                .fetchAll(db)
        }
    }

    /// Number of tasks in the store.
    public func count() async throws(StoreError) -> Int {
        try await read { db in try TaskRecord.fetchCount(db) }
    }

    // MARK: Events

    /// Appends events of one task in one transaction and returns the sequence numbers they got:
    /// the ones after the last stored, assigned inside the transaction, so that concurrent
    /// appends commit in sequence order and a follower reading "after n" never skips one.
    /// (The `sequence` of the given records is ignored.)
    @discardableResult
    public func append(events: [EventRecord], agentOffset: Int? = nil) async throws(StoreError) -> ClosedRange<Int>? {
        guard let taskID = events.first?.taskID else { return nil }
        return try await write { db in
            // The offset moves in the same transaction as the events it covers: a runner that
            // re-attaches reads on from exactly there, so no event is stored twice or lost.
            if let agentOffset {
                try db.execute(sql: "UPDATE task SET agent_offset = ? WHERE id = ?", arguments: [agentOffset, taskID])
            }
            let base = try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM event WHERE task_id = ?", arguments: [taskID]) ?? 0
            // One cached statement for the whole batch: several times faster than record encoding.
            let statement = try db.cachedStatement(sql: "INSERT INTO event (task_id, seq, type, subtype, created_at, payload) VALUES (?, ?, ?, ?, ?, ?)")
            // Events of a batch usually share one timestamp: convert it once.
            var lastDate: Date?
            var lastValue = DatabaseValue.null
            for (offset, event) in events.enumerated() {
                if event.createdAt != lastDate { lastDate = event.createdAt; lastValue = event.createdAt.databaseValue }
                try statement.execute(arguments: [taskID, base + 1 + offset, event.type, event.subtype, lastValue, event.payload])
            }
            return (base + 1)...(base + events.count)
        }
    }

    /// Highest sequence number stored for a task (0 when none).
    public func lastSequence(taskID: String) async throws(StoreError) -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM event WHERE task_id = ?", arguments: [taskID]) ?? 0
        }
    }

    /// Events of a task with a sequence number above `after`, in order.
    public func events(taskID: String, after: Int = 0, limit: Int = 10_000) async throws(StoreError) -> [EventRecord] {
        try await read { db in
            try EventRecord
                .filter(Column("task_id") == taskID && Column("seq") > after)
                .order(Column("seq"))
                .limit(limit)
                .fetchAll(db)
        }
    }

    // MARK: Artifacts

    /// Replaces the artifacts recorded for a task.
    public func replaceArtifacts(taskID: String, with artifacts: [ArtifactRecord]) async throws(StoreError) {
        try await write { db in
            try ArtifactRecord.filter(Column("task_id") == taskID).deleteAll(db)
            for artifact in artifacts { try artifact.insert(db) }
        }
    }

    /// Artifacts recorded for a task.
    public func artifacts(taskID: String) async throws(StoreError) -> [ArtifactRecord] {
        try await read { db in
            try ArtifactRecord.filter(Column("task_id") == taskID).order(Column("rowid")).fetchAll(db)
        }
    }

    // MARK: Plumbing

    /// Runs raw SQL in a write transaction (benchmarks and tests).
    public func writeRaw(_ block: @Sendable (Database) throws -> Void) async throws(StoreError) {
        try await write { db in try block(db) }
    }

    func read<T: Sendable>(_ block: @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do { return try await reader.read(block) } catch { throw StoreError.wrap(error) }
    }

    func write<T: Sendable>(_ block: @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        guard let pool else { throw StoreError.database("\(path) was opened read-only") }
        do { return try await pool.write(block) } catch { throw StoreError.wrap(error) }
    }

    /// A write transaction committed with `synchronous=FULL`. The pragma cannot change inside a
    /// transaction, so it is set around it on the writer connection.
    func writeDurably<T: Sendable>(_ block: @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        guard let pool else { throw StoreError.database("\(path) was opened read-only") }
        do {
            return try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try block(db)
                    return .commit
                }
                guard let result else { throw StoreError.database("transaction ended without a result") }
                return result
            }
        } catch { throw StoreError.wrap(error) }
    }
}

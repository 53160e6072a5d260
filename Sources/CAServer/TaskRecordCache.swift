import AgentCore
import Foundation
import Synchronization

/// Recently read tasks, for `GET /v1/tasks/{id}` by full id (what pollers call).
///
/// An entry is used only while the store's change stamp of its task is what it was before the
/// read (every change this server makes ends it) and for at most ``maximumAge``, the bound on
/// how late a change made by another process (a `ca task cancel` on the same store) shows.
/// Bounded: when full, it starts over.
final class TaskRecordCache: Sendable {
    private struct Entry: Sendable {
        var task: TaskRecord
        var stamp: UInt64
        var readAt: ContinuousClock.Instant
    }

    /// How long an entry may serve.
    static let maximumAge: Duration = .seconds(1)
    private let capacity: Int
    private let entries = Mutex([String: Entry]())

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The task `id`, from the cache if current, else read with `load` (and kept).
    func task(_ id: String, store: TaskStore, load: () async throws -> TaskRecord) async throws -> TaskRecord {
        let stamp = store.changeStamp(of: id)
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[id] }), entry.stamp == stamp, now - entry.readAt < Self.maximumAge {
            return entry.task
        }
        let task = try await load()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[id] = Entry(task: task, stamp: stamp, readAt: now)
        }
        return task
    }
}

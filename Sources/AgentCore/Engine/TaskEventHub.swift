import Foundation
import Synchronization

/// Wakes the followers of a task when its runner stored new events or a new status, in this
/// process. It carries no events (the store is the one source of truth, so followers never see
/// an event twice or out of order); followers in other processes fall back to polling.
///
/// Each task has a version that every ``publish(_:)`` increments. A follower notes the version
/// before it reads the store and then waits for a newer one, so a change that lands between the
/// read and the wait is never missed.
public final class TaskEventHub: Sendable {
    private struct Entry {
        var version = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private struct State {
        var tasks: [String: Entry] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// The current version of a task (0 when nothing was published).
    public func version(of taskID: String) -> Int {
        state.withLock { $0.tasks[taskID]?.version ?? 0 }
    }

    /// Something changed for the task: wake everyone waiting on it.
    public func publish(_ taskID: String) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            var entry = s.tasks[taskID] ?? Entry()
            entry.version += 1
            let waiting = Array(entry.waiters.values)
            entry.waiters = [:]
            s.tasks[taskID] = entry
            return waiting
        }
        waiters.forEach { $0.resume() }
    }

    /// Forgets a finished task (its followers were woken by the last publish).
    public func forget(_ taskID: String) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            let waiting = Array(s.tasks[taskID]?.waiters.values ?? [:].values)
            s.tasks[taskID] = nil
            return waiting
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once the task's version is past `version`, or after `timeout`, or on cancellation.
    public func waitForChange(of taskID: String, after version: Int, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.waitForPublish(of: taskID, after: version) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForPublish(of taskID: String, after version: Int) async {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if Task.isCancelled || (s.tasks[taskID]?.version ?? 0) > version { return true }
                    s.tasks[taskID, default: Entry()].waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.tasks[taskID]?.waiters.removeValue(forKey: id) }
            continuation?.resume()
        }
    }
}

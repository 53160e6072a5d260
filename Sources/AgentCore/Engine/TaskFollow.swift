import Foundation

/// What ``TaskService/follow(_:after:)`` yields: every stored event of a task in order, then the
/// task once it ended.
public enum TaskFollowItem: Sendable {
    case event(EventRecord)
    case finished(TaskRecord)
    /// Nothing happened for the follow's idle interval (for keep-alive messages).
    case idle
}

/// The live events of one task, read from the store as they arrive: woken by the runner in this
/// process (``TaskEventHub``), polling for runners in other processes, and running crash
/// recovery now and then so that a follower never waits on a runner that died.
///
/// It is pulled: each `next()` reads what it needs, so there is no background task to own.
public struct TaskFollow: AsyncSequence, Sendable {
    public typealias Element = TaskFollowItem

    let service: TaskService
    let taskID: String
    let after: Int
    let pollInterval: Duration
    let recoveryInterval: Duration
    let idleInterval: Duration?

    public func makeAsyncIterator() -> Iterator {
        Iterator(service: service, taskID: taskID, last: after, pollInterval: pollInterval, recoveryInterval: recoveryInterval,
                 idleInterval: idleInterval)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let service: TaskService
        let taskID: String
        var last: Int
        let pollInterval: Duration
        let recoveryInterval: Duration
        let idleInterval: Duration?
        var buffer: [EventRecord] = []
        var ended = false
        var lastRecovery = ContinuousClock.now
        var lastItem = ContinuousClock.now

        /// Throws ``TaskError`` when the store fails or the task is gone.
        public mutating func next() async throws -> TaskFollowItem? {
            while true {
                if !buffer.isEmpty {
                    let event = buffer.removeFirst()
                    last = event.sequence
                    lastItem = .now
                    return .event(event)
                }
                if let idleInterval, ContinuousClock.now - lastItem >= idleInterval {
                    lastItem = .now
                    return .idle
                }
                if ended || Task.isCancelled { return nil }
                let version = service.hub.version(of: taskID)
                let status: TaskStatus
                do {
                    // The status first: events stored before it ended are read right after.
                    guard let task = try await service.store.task(id: taskID) else { throw TaskError.store(.taskNotFound(taskID)) }
                    status = task.status
                    buffer = try await service.store.events(taskID: taskID, after: last, limit: 1000)
                    if buffer.isEmpty && status.isTerminal {
                        ended = true
                        return .finished(task)
                    }
                } catch let error as StoreError {
                    throw TaskError.store(error)
                }
                if !buffer.isEmpty { continue }
                if ContinuousClock.now - lastRecovery > recoveryInterval {
                    lastRecovery = .now
                    await service.recoverOrphans()
                }
                await service.hub.waitForChange(of: taskID, after: version, timeout: pollInterval)
            }
        }
    }
}

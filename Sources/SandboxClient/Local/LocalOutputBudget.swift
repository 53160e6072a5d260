import Foundation

/// Backpressure between the thread reading a process's pipes and the consumer of its events.
///
/// The reading thread adds the size of every chunk it yields and waits while more than
/// ``limit`` bytes are yielded but not yet taken; the consumer's ``CommandEvents`` gives them
/// back as it takes them. While the reader waits, the pipe fills up and the process blocks on
/// its next write, so a process that writes faster than ca can store never makes ca buffer
/// without bound. Once nobody consumes any more (the stream ended or the process is being
/// killed), ``release()`` lets the reader drain and drop the rest.
final class LocalOutputBudget: @unchecked Sendable {
    /// Bytes yielded but not taken above which the reader waits.
    let limit: Int
    private let condition = NSCondition()
    private var outstanding = 0
    private var released = false

    init(limit: Int = 4 << 20) {
        self.limit = limit
    }

    /// Called by the reader before yielding `count` bytes: waits for room, then takes it.
    /// Returns `false` once released (the chunk is not wanted any more).
    func reserve(_ count: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !released && outstanding > 0 && outstanding + count > limit {
            condition.wait()
        }
        guard !released else { return false }
        outstanding += count
        return true
    }

    /// Called by the consumer for every chunk it took.
    func consumed(_ count: Int) {
        condition.lock()
        outstanding = max(0, outstanding - count)
        condition.signal()
        condition.unlock()
    }

    /// Nobody will consume any more: the reader stops waiting, for good.
    func release() {
        condition.lock()
        released = true
        condition.broadcast()
        condition.unlock()
    }
}

import Foundation

/// A value guarded by a lock.
///
/// The local backend shares a little state with the threads that run processes (which cannot
/// `await`), so it uses a lock there instead of an actor. `Mutex` would do, but needs macOS 15.
final class LocalLock<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

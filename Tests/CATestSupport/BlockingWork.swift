import Foundation

/// Runs blocking work (waiting for a child process, a blocking socket read) on a thread of its
/// own, so it never occupies one of the few threads of Swift's cooperative pool.
///
/// Tests serve fakes (the Anthropic API, Novita) from tasks on that pool. With two cores the pool
/// has two threads: two tests each blocking one of them would starve the fakes they wait on.
public enum BlockingWork {
    /// Runs `body` on a new thread and returns its result once it ends.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}

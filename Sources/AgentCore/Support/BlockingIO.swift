import Foundation

/// Runs blocking file work (large reads and writes) on a thread of its own, so that no thread
/// of Swift concurrency's cooperative pool waits on the disk.
enum BlockingIO {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws(TaskError) -> T) async throws(TaskError) -> T {
        let result: Result<T, TaskError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(TaskError) { continuation.resume(returning: .success(try work())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.stackSize = 512 << 10
            thread.start()
        }
        return try result.get()
    }
}

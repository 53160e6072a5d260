import AgentCore
import Dispatch
import Foundation
import Synchronization

/// Turns Ctrl-C (SIGINT) and SIGTERM into a clean stop of a running task.
///
/// The first signal calls `onStop` (the runner stops the agent and sandbox and marks the task
/// `cancelled`, or a server is asked to cancel it); a second one exits at once with status 130.
enum SignalTrap {
    /// Runs `body` while a signal stops `runner` (Ctrl-C: `interrupted`, SIGTERM: `cancelled`).
    static func whileRunning<T: Sendable>(_ runner: TaskRunner, _ body: () async -> T) async -> T {
        await whileRunning(onStop: { sig in runner.requestStop(sig == SIGINT ? .interrupted : .cancelled) }, body)
    }

    static func whileRunning<T: Sendable>(onStop: @escaping @Sendable (Int32) -> Void, _ body: () async -> T) async -> T {
        let signals = [SIGINT, SIGTERM]
        var sources: [any DispatchSourceSignal] = []
        let count = SignalCounter()
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if count.increment() > 1 {
                    StandardStream.error.write(Data("\nca: stopping now\n".utf8))
                    exit(130)
                }
                StandardStream.error.write(Data("\nca: stopping the task (press Ctrl-C again to quit at once)\n".utf8))
                onStop(sig)
            }
            source.resume()
            sources.append(source)
        }
        let result = await body()
        for source in sources { source.cancel() }
        for sig in signals { signal(sig, SIG_DFL) }
        return result
    }
}

/// Counts signals received, safely from any thread.
final class SignalCounter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}

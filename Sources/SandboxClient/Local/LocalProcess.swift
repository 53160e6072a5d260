import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A host process started for a local sandbox, with its output as a stream of ``CommandEvent``s.
///
/// Each process gets one dedicated thread that starts it (``LocalSpawn``), reads its stdout and
/// stderr with `poll(2)` as data arrives, reaps it and then yields the ``CommandEvent/exit(_:)``
/// event (after both pipes reached end-of-file). The thread lives exactly as long as the process,
/// and that matters: `bwrap --die-with-parent` uses `PR_SET_PDEATHSIG`, which fires when the
/// *thread* that started bwrap ends, so starting it from a pooled thread that may retire (as the
/// Swift concurrency and Dispatch threads do when idle) would kill the sandbox at a random moment.
///
/// Writes to stdin go through a serial queue of their own, so a full pipe blocks no cooperative
/// thread, and a process that stopped reading makes them fail rather than raise `SIGPIPE`.
final class LocalProcess: Sendable {
    /// Host process id (of `bwrap`, in the bubblewrap mode).
    let pid: Int32
    /// Output then exit, with backpressure (see ``LocalOutputBudget``).
    let events: CommandEvents

    private let shared: LocalLock<Shared>
    private let inputQueue: DispatchQueue
    private let signalsProcessGroup: Bool
    private let marker: String?
    private let budget: LocalOutputBudget

    private struct Shared {
        /// The `waitpid` status once the process was reaped.
        var waitStatus: Int32?
        /// Set once the output was read and the process reaped, just before the exit event.
        var exited = false
        var inputDescriptor: Int32 = -1
    }

    private init(pid: Int32, events: CommandEvents, budget: LocalOutputBudget, shared: LocalLock<Shared>, inputQueue: DispatchQueue, launch: LocalLaunch) {
        self.pid = pid
        self.events = events
        self.budget = budget
        self.shared = shared
        self.inputQueue = inputQueue
        self.signalsProcessGroup = launch.signalsProcessGroup
        self.marker = launch.marker
    }

    /// Starts a process.
    /// - Parameters:
    ///   - onStarted: called on the process thread right after the start, before anything else
    ///     sees the pid (the sandbox writes its pid file there).
    ///   - onExited: called on the process thread once the process ended and its output was read,
    ///     before the exit event is yielded.
    static func start(
        _ launch: LocalLaunch,
        onStarted: @escaping @Sendable (Int32) -> Void,
        onExited: @escaping @Sendable (Int32) -> Void
    ) async throws(SandboxError) -> LocalProcess {
        let output = try LocalPOSIX.makePipe()
        let errorOutput: (read: Int32, write: Int32)
        do throws(SandboxError) {
            errorOutput = try LocalPOSIX.makePipe()
        } catch {
            LocalPOSIX.close(output.read)
            LocalPOSIX.close(output.write)
            throw error
        }
        var input: (read: Int32, write: Int32)?
        if launch.standardInput {
            do throws(SandboxError) {
                input = try LocalPOSIX.makePipe()
            } catch {
                [output.read, output.write, errorOutput.read, errorOutput.write].forEach(LocalPOSIX.close)
                throw error
            }
        }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: CommandEvent.self, throwing: (any Error).self)
        let budget = LocalOutputBudget()
        // Once nobody iterates the events any more, the reader must not wait for room.
        continuation.onTermination = { _ in budget.release() }
        let events = CommandEvents(stream, consumed: { budget.consumed($0) })
        let shared = LocalLock(Shared(inputDescriptor: input?.write ?? -1))
        let inputQueue = DispatchQueue(label: "ca.local-sandbox.stdin")
        let childInput = input?.read

        let started: Result<Int32, SandboxError> = await withCheckedContinuation { (startContinuation: CheckedContinuation<Result<Int32, SandboxError>, Never>) in
            let thread = Thread {
                Self.run(
                    launch,
                    output: output,
                    errorOutput: errorOutput,
                    childInput: childInput,
                    shared: shared,
                    budget: budget,
                    continuation: continuation,
                    started: { result in
                        if case .success(let pid) = result { onStarted(pid) }
                        startContinuation.resume(returning: result)
                    },
                    exited: { pid, exit in
                        shared.withLock { $0.exited = true }
                        onExited(pid)
                        inputQueue.async {
                            let fd = shared.withLock { state in
                                defer { state.inputDescriptor = -1 }
                                return state.inputDescriptor
                            }
                            LocalPOSIX.close(fd)
                        }
                        continuation.yield(.exit(exit))
                        continuation.finish()
                    }
                )
            }
            thread.name = "ca-local-sandbox-process"
            thread.start()
        }
        switch started {
        case .success(let pid):
            return LocalProcess(pid: pid, events: events, budget: budget, shared: shared, inputQueue: inputQueue, launch: launch)
        case .failure(let error):
            if let input { LocalPOSIX.close(input.write) }
            throw error
        }
    }

    /// The body of the process thread.
    private static func run(
        _ launch: LocalLaunch,
        output: (read: Int32, write: Int32),
        errorOutput: (read: Int32, write: Int32),
        childInput: Int32?,
        shared: LocalLock<Shared>,
        budget: LocalOutputBudget,
        continuation: AsyncThrowingStream<CommandEvent, any Error>.Continuation,
        started: (Result<Int32, SandboxError>) -> Void,
        exited: (Int32, CommandExit) -> Void
    ) {
        let spawned = LocalSpawn.spawn(launch, standardInput: childInput, standardOutput: output.write, standardError: errorOutput.write)
        // The child has its copies; ours would keep the pipes open forever.
        [output.write, errorOutput.write, childInput ?? -1].forEach(LocalPOSIX.close)
        let pid: Int32
        switch spawned {
        case .success(let value):
            pid = value
        case .failure(let error):
            LocalPOSIX.close(output.read)
            LocalPOSIX.close(errorOutput.read)
            continuation.finish(throwing: error)
            started(.failure(error))
            return
        }
        started(.success(pid))

        let cleanUp: (Int32) -> Void = { status in
            // bwrap ended by a signal: its init process may have missed --die-with-parent.
            if let marker = launch.marker, status & 0x7f != 0 {
                LocalProcessTable.sweepBubblewraps(marker: marker)
            }
        }
        let sweptEarly = pump(output: output.read, errorOutput: errorOutput.read, pid: pid, shared: shared, budget: budget, afterEnd: cleanUp, into: continuation)
        LocalPOSIX.close(output.read)
        LocalPOSIX.close(errorOutput.read)
        let status = reap(pid, shared: shared)
        if !sweptEarly {
            cleanUp(status)
        }
        exited(pid, LocalSpawn.exit(fromWaitStatus: status))
    }

    /// Reaps the process: waits for its end without reaping it, then reaps it under the lock that
    /// ``signal(_:)`` takes, so a signal never reaches a recycled pid.
    private static func reap(_ pid: Int32, shared: LocalLock<Shared>) -> Int32 {
        if let status = shared.withLock({ $0.waitStatus }) {
            return status
        }
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        return shared.withLock { state in
            if let status = state.waitStatus { return status }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            state.waitStatus = status
            return status
        }
    }

    /// Reaps the process if it already ended, under the lock.
    private static func reapIfEnded(_ pid: Int32, shared: LocalLock<Shared>) -> Bool {
        shared.withLock { state in
            if state.waitStatus != nil { return true }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return false }
            state.waitStatus = status
            return true
        }
    }

    /// Yields stdout and stderr chunks as they arrive, until both pipes reached end-of-file.
    ///
    /// With bubblewrap every holder of the pipes dies with the sandbox, so end-of-file always
    /// comes. Without isolation a background process may keep them open after the command ended:
    /// then reading stops ``outputGracePeriod`` after the command's end.
    /// - Parameter afterEnd: called with the wait status if the process is found ended (and
    ///   reaped) while its pipes are still open; the result tells whether it was called.
    private static func pump(
        output: Int32, errorOutput: Int32, pid: Int32, shared: LocalLock<Shared>, budget: LocalOutputBudget,
        afterEnd: (Int32) -> Void,
        into continuation: AsyncThrowingStream<CommandEvent, any Error>.Continuation
    ) -> Bool {
        var descriptors = [
            pollfd(fd: output, events: Int16(POLLIN), revents: 0),
            pollfd(fd: errorOutput, events: Int16(POLLIN), revents: 0),
        ]
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let clock = ContinuousClock()
        var endedAt: ContinuousClock.Instant?
        var checkedAt = clock.now
        while descriptors.contains(where: { $0.fd >= 0 }) {
            var timeout: Int32 = 250
            if let endedAt {
                let remaining = outputGracePeriod - (clock.now - endedAt)
                if remaining <= .zero { return true }
                timeout = Int32(max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            }
            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0 && errno != EINTR {
                break
            }
            for index in descriptors.indices where descriptors[index].fd >= 0 && descriptors[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptors[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    // Waits while the consumer is behind; drops the chunk once nobody consumes.
                    if budget.reserve(count) {
                        let chunk = Data(buffer[0..<count])
                        continuation.yield(index == 0 ? .stdout(chunk) : .stderr(chunk))
                    }
                } else if count == 0 || errno != EINTR {
                    // End of file (or a broken pipe): stop watching it; poll ignores negative fds.
                    descriptors[index].fd = -1
                }
                descriptors[index].revents = 0
            }
            if endedAt == nil && clock.now - checkedAt >= .milliseconds(250) {
                checkedAt = clock.now
                if reapIfEnded(pid, shared: shared) {
                    afterEnd(shared.withLock { $0.waitStatus ?? 0 })
                    endedAt = clock.now
                }
            }
        }
        return endedAt != nil
    }

    /// How long output is still read after the command ended while something else keeps its
    /// pipes open (only possible without isolation).
    static let outputGracePeriod: Duration = .seconds(2)

    // MARK: Control

    /// Writes to the process's stdin, off the cooperative threads (a full pipe blocks).
    func sendInput(_ data: Data) async throws(SandboxError) {
        let shared = self.shared
        let result: Result<Void, SandboxError> = await withCheckedContinuation { continuation in
            inputQueue.async {
                let fd = shared.withLock { $0.inputDescriptor }
                guard fd >= 0 else {
                    continuation.resume(returning: .failure(.invalidArgument("stdin of process is closed or was not requested (CommandSpec.stdin)")))
                    return
                }
                do throws(SandboxError) {
                    try LocalPOSIX.writeAllToPipe(fd, data, subject: "stdin")
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        try result.get()
    }

    /// Closes the process's stdin, after the writes already queued.
    func closeInput() async {
        let shared = self.shared
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            inputQueue.async {
                let fd = shared.withLock { state in
                    defer { state.inputDescriptor = -1 }
                    return state.inputDescriptor
                }
                LocalPOSIX.close(fd)
                continuation.resume()
            }
        }
    }

    /// Sends a signal unless the process was already reaped (its pid may then belong to another).
    ///
    /// `SIGKILL` also goes straight to the sandbox's init process (found by the launch marker),
    /// which may not have armed `--die-with-parent` yet when bwrap was just started.
    func signal(_ signal: Int32) {
        if signal == SIGKILL {
            // The reader must not stay blocked on a consumer that is going away.
            budget.release()
        }
        let running = shared.withLock { state in
            guard state.waitStatus == nil else { return false }
            _ = kill(signalsProcessGroup ? -pid : pid, signal)
            return true
        }
        if running, signal == SIGKILL, let marker {
            LocalProcessTable.killBubblewraps { $0 == marker }
        }
    }

    /// Whether the process ended (was reaped) and its output was read.
    var hasExited: Bool {
        shared.withLock { $0.exited }
    }
}

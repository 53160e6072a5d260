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
/// Each process gets one dedicated thread that starts it, reads its stdout and stderr with
/// `poll(2)` as data arrives, waits for its termination and then yields the
/// ``CommandEvent/exit(_:)`` event (after both pipes reached end-of-file). The thread lives exactly
/// as long as the process, and that matters: `bwrap --die-with-parent` uses `PR_SET_PDEATHSIG`,
/// which fires when the *thread* that started it ends, so starting bwrap from a pooled thread that
/// may retire would kill the sandboxed process at a random moment.
final class LocalProcess: Sendable {
    /// Host process id (of `bwrap`, in the bubblewrap mode).
    let pid: Int32
    /// Output then exit.
    let events: AsyncThrowingStream<CommandEvent, any Error>

    private let shared: LocalLock<Shared>
    private let inputQueue: DispatchQueue
    private let signalsProcessGroup: Bool

    private struct Shared {
        var exited = false
        var inputDescriptor: Int32 = -1
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private init(pid: Int32, events: AsyncThrowingStream<CommandEvent, any Error>, shared: LocalLock<Shared>, inputQueue: DispatchQueue, signalsProcessGroup: Bool) {
        self.pid = pid
        self.events = events
        self.shared = shared
        self.inputQueue = inputQueue
        self.signalsProcessGroup = signalsProcessGroup
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
        let (events, continuation) = AsyncThrowingStream.makeStream(of: CommandEvent.self, throwing: (any Error).self)
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
                    continuation: continuation,
                    started: { result in
                        if case .success(let pid) = result { onStarted(pid) }
                        startContinuation.resume(returning: result)
                    },
                    exited: { pid, exit in
                        let waiters = shared.withLock { state in
                            state.exited = true
                            defer { state.exitWaiters.removeAll() }
                            return state.exitWaiters
                        }
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
                        waiters.forEach { $0.resume() }
                    }
                )
            }
            thread.name = "ca-local-sandbox-process"
            thread.start()
        }
        switch started {
        case .success(let pid):
            return LocalProcess(pid: pid, events: events, shared: shared, inputQueue: inputQueue, signalsProcessGroup: launch.signalsProcessGroup)
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
        continuation: AsyncThrowingStream<CommandEvent, any Error>.Continuation,
        started: (Result<Int32, SandboxError>) -> Void,
        exited: (Int32, CommandExit) -> Void
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launch.executable)
        process.arguments = launch.arguments
        process.environment = launch.environment
        if let directory = launch.directory {
            process.currentDirectoryURL = URL(fileURLWithPath: directory, isDirectory: true)
        }
        process.standardInput = childInput.map { FileHandle(fileDescriptor: $0, closeOnDealloc: false) } ?? FileHandle.nullDevice
        process.standardOutput = FileHandle(fileDescriptor: output.write, closeOnDealloc: false)
        process.standardError = FileHandle(fileDescriptor: errorOutput.write, closeOnDealloc: false)
        let terminated = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in terminated.signal() }

        do {
            try process.run()
        } catch {
            [output.read, output.write, errorOutput.read, errorOutput.write, childInput ?? -1].forEach(LocalPOSIX.close)
            continuation.finish(throwing: SandboxError.io("cannot start \(launch.executable): \(error.localizedDescription)"))
            started(.failure(.io("cannot start \(launch.executable): \(error.localizedDescription)")))
            return
        }
        // The child has its copies; ours would keep the pipes open forever.
        [output.write, errorOutput.write, childInput ?? -1].forEach(LocalPOSIX.close)
        let pid = process.processIdentifier
        started(.success(pid))

        pump(output: output.read, errorOutput: errorOutput.read, into: continuation)
        LocalPOSIX.close(output.read)
        LocalPOSIX.close(errorOutput.read)
        terminated.wait()

        let exit: CommandExit
        switch process.terminationReason {
        case .uncaughtSignal:
            exit = CommandExit(code: -1, status: "signal: \(signalName(process.terminationStatus))")
        case .exit:
            exit = CommandExit(code: process.terminationStatus, status: "exit status \(process.terminationStatus)")
        @unknown default:
            exit = CommandExit(code: process.terminationStatus, status: "exit status \(process.terminationStatus)")
        }
        exited(pid, exit)
    }

    /// Yields stdout and stderr chunks as they arrive, until both pipes reached end-of-file.
    private static func pump(output: Int32, errorOutput: Int32, into continuation: AsyncThrowingStream<CommandEvent, any Error>.Continuation) {
        var descriptors = [
            pollfd(fd: output, events: Int16(POLLIN), revents: 0),
            pollfd(fd: errorOutput, events: Int16(POLLIN), revents: 0),
        ]
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while descriptors.contains(where: { $0.fd >= 0 }) {
            let ready = poll(&descriptors, nfds_t(descriptors.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in descriptors.indices where descriptors[index].fd >= 0 && descriptors[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptors[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    let chunk = Data(buffer[0..<count])
                    continuation.yield(index == 0 ? .stdout(chunk) : .stderr(chunk))
                } else if count == 0 || errno != EINTR {
                    // End of file (or a broken pipe): stop watching it; poll ignores negative fds.
                    descriptors[index].fd = -1
                }
                descriptors[index].revents = 0
            }
        }
    }

    private static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: return "killed"
        case SIGTERM: return "terminated"
        case SIGINT: return "interrupt"
        case SIGHUP: return "hangup"
        case SIGPIPE: return "broken pipe"
        case SIGSEGV: return "segmentation fault"
        case SIGABRT: return "aborted"
        default: return "\(signal)"
        }
    }

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

    /// Sends a signal unless the process already ended (its pid may then belong to another one).
    func signal(_ signal: Int32) {
        shared.withLock { state in
            guard !state.exited else { return }
            _ = kill(signalsProcessGroup ? -pid : pid, signal)
        }
    }

    /// Whether the process ended and its output was delivered.
    var hasExited: Bool {
        shared.withLock { $0.exited }
    }

    /// Waits until the process ended and its exit event was yielded.
    func waitForExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyExited = shared.withLock { state in
                if state.exited { return true }
                state.exitWaiters.append(continuation)
                return false
            }
            if alreadyExited { continuation.resume() }
        }
    }
}

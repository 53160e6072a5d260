import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real local process behind the fake envd's `process.Process/Start`.
///
/// Output is broadcast to every attached listener (the `Start` stream and any `Connect` streams) as it
/// is read; a listener attached later sees only what is produced from then on, as with envd. The `end`
/// event follows once the process has exited and its pipes are drained (or one second after the exit,
/// when a leftover child keeps a pipe open).
final class FakeNovitaProcess: Sendable {
    /// Something the process produced.
    enum Event: Sendable {
        case stdout(Data)
        case stderr(Data)
        case end(Exit)
    }

    /// How the process ended, in envd's terms.
    struct Exit: Sendable {
        /// Exit code; -1 after a signal.
        var code: Int32
        /// `false` when killed by a signal.
        var exited: Bool
        /// `exit status N` or `signal: killed`.
        var status: String
    }

    /// Failures of stdin operations.
    enum Failure: Error {
        /// The process was started without a stdin pipe, or stdin was closed.
        case noStdin
    }

    /// What a `process.Process/List` reports.
    struct Config: Sendable {
        var cmd: String
        var args: [String]
        var envs: [String: String]
        var cwd: String
    }

    private struct State {
        var process: Process?
        var stdin: FileHandle?
        var listeners: [Int: AsyncStream<Event>.Continuation] = [:]
        var nextListenerID = 0
        var stdoutDone = false
        var stderrDone = false
        var exit: Exit?
        var finished = false
        var signalled = false
    }

    /// Host pid of the process (of `bwrap` when sandboxed with it).
    let pid: UInt32
    let config: Config
    let hasStdin: Bool
    private let state: Mutex<State>

    private init(pid: UInt32, config: Config, hasStdin: Bool, state: sending State) {
        self.pid = pid
        self.config = config
        self.hasStdin = hasStdin
        self.state = Mutex(state)
    }

    /// How to run processes.
    struct Launcher: Sendable {
        /// Run under `bwrap` with the sandbox folder bound at `/home/user` (and `<root>/tmp` at `/tmp`).
        var bubblewrap: String?
        /// The sandbox's root folder on the host: `<root>/home/user` is the home.
        var root: URL
        /// Programs mounted read-only at ``FakeNovitaProcess/templateBin`` (name → host path).
        var templateTools: [String: String] = [:]

        /// Host path of a sandbox path (for cwd when not using bwrap).
        func hostPath(_ sandboxPath: String) -> String {
            root.path + sandboxPath
        }
    }

    /// Where template programs appear inside bwrap sandboxes (under the private `/home` tmpfs).
    static let templateBin = "/home/.template/bin"

    /// Without bwrap: a folder of symbolic links to the template programs, inside the sandbox root.
    static func templateFolder(_ root: URL, tools: [String: String]) throws -> String {
        let bin = root.appendingPathComponent("template-bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for (name, target) in tools where !FileManager.default.fileExists(atPath: bin.appendingPathComponent(name).path) {
            try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(name).path, withDestinationPath: target)
        }
        return bin.path
    }

    /// Starts a process and attaches a first listener before any output can be lost.
    static func launch(
        config: Config,
        environment: [String: String],
        stdin: Bool,
        launcher: Launcher
    ) throws -> (FakeNovitaProcess, AsyncStream<Event>) {
        let process = Process()
        if let bwrap = launcher.bubblewrap {
            process.executableURL = URL(fileURLWithPath: bwrap)
            process.arguments = [
                "--dev-bind", "/", "/",
                "--tmpfs", "/home",
                "--bind", launcher.root.appendingPathComponent("home/user").path, "/home/user",
                "--bind", launcher.root.appendingPathComponent("tmp").path, "/tmp",
            ] + launcher.templateTools.sorted(by: { $0.key < $1.key }).flatMap {
                ["--ro-bind", $0.value, "\(templateBin)/\($0.key)"]
            } + [
                "--unshare-pid", "--die-with-parent",
                "--chdir", config.cwd,
                "--", config.cmd,
            ] + config.args
            process.currentDirectoryURL = launcher.root
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["--", config.cmd] + config.args
            process.currentDirectoryURL = URL(fileURLWithPath: launcher.hostPath(config.cwd))
        }
        process.environment = environment
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        var stdinHandle: FileHandle?
        if stdin {
            let stdinPipe = Pipe()
            process.standardInput = stdinPipe
            stdinHandle = stdinPipe.fileHandleForWriting
        } else {
            process.standardInput = FileHandle.nullDevice
        }

        try process.run()
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        var initial = State()
        initial.stdin = stdinHandle
        initial.listeners[0] = continuation
        initial.nextListenerID = 1
        let fake = FakeNovitaProcess(pid: UInt32(process.processIdentifier), config: config, hasStdin: stdin, state: initial)
        fake.state.withLock { $0.process = process }
        continuation.onTermination = { [weak fake] _ in fake?.detach(0) }

        // One blocking reader thread per pipe. (`readabilityHandler` registers libdispatch
        // sources, and a pipe released while its source is live has crashed the test process
        // inside libdispatch's event loop.)
        pump(stdoutPipe.fileHandleForReading, onData: { [weak fake] in fake?.broadcast(.stdout($0)) },
             onEnd: { [weak fake] in fake?.streamClosed(stdout: true) })
        pump(stderrPipe.fileHandleForReading, onData: { [weak fake] in fake?.broadcast(.stderr($0)) },
             onEnd: { [weak fake] in fake?.streamClosed(stdout: false) })
        // The end is learnt on a thread of our own: Foundation's termination handler waits for
        // a socket the child inherited to close, which a grandchild keeps open (see ChildExit).
        let waiter = Thread { [weak fake] in
            guard let status = ChildExit.wait(process: process) else { return }
            let exit: Exit
            if status.signaled {
                exit = Exit(code: -1, exited: false, status: "signal: \(Self.signalName(status.value))")
            } else {
                exit = Exit(code: status.value, exited: true, status: "exit status \(status.value)")
            }
            fake?.terminated(exit)
            // A grandchild may hold the pipes open; do not wait for it forever.
            DispatchQueue.global().asyncAfter(deadline: .now() + 1) { [weak fake] in
                fake?.forceFinish()
            }
        }
        waiter.start()
        return (fake, stream)
    }

    /// Reads a pipe to its end on a thread of its own, then closes it.
    private static func pump(_ handle: FileHandle, onData: @escaping @Sendable (Data) -> Void, onEnd: @escaping @Sendable () -> Void) {
        let thread = Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                onData(data)
            }
            try? handle.close()
            onEnd()
        }
        thread.start()
    }

    /// Whether the process has ended and its end event was sent.
    var isFinished: Bool { state.withLock { $0.finished } }

    /// Attaches a listener that receives events from now on; `nil` when the process already finished.
    func attach() -> AsyncStream<Event>? {
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        let id: Int? = state.withLock { state in
            guard !state.finished else { return nil }
            let id = state.nextListenerID
            state.nextListenerID += 1
            state.listeners[id] = continuation
            return id
        }
        guard let id else { return nil }
        continuation.onTermination = { [weak self] _ in self?.detach(id) }
        return stream
    }

    /// Writes to the process's stdin.
    func write(_ data: Data) throws {
        let handle = state.withLock { $0.stdin }
        guard let handle else { throw Failure.noStdin }
        try handle.write(contentsOf: data)
    }

    /// Closes the process's stdin (it reads end-of-file).
    func closeStdin() throws {
        let handle: FileHandle? = state.withLock { state in
            defer { state.stdin = nil }
            return state.stdin
        }
        guard hasStdin else { throw Failure.noStdin }
        try handle?.close()
    }

    /// Sends a signal (to `bwrap`, whose pid namespace then dies with every process in it).
    func signal(_ number: Int32) {
        let target: pid_t? = state.withLock { state in
            guard let process = state.process, process.isRunning else { return nil }
            state.signalled = true
            return process.processIdentifier
        }
        if let target { _ = kill(target, number) }
    }

    // MARK: - Events

    private func broadcast(_ event: Event) {
        let listeners = state.withLock { Array($0.listeners.values) }
        for listener in listeners { listener.yield(event) }
    }

    private func detach(_ id: Int) {
        _ = state.withLock { $0.listeners.removeValue(forKey: id) }
    }

    private func streamClosed(stdout: Bool) {
        state.withLock { state in
            if stdout { state.stdoutDone = true } else { state.stderrDone = true }
        }
        finishIfDone(force: false)
    }

    private func terminated(_ exit: Exit) {
        state.withLock { $0.exit = exit }
        finishIfDone(force: false)
    }

    private func forceFinish() {
        finishIfDone(force: true)
    }

    private func finishIfDone(force: Bool) {
        let result: (Exit, [AsyncStream<Event>.Continuation])? = state.withLock { state in
            guard !state.finished, let exit = state.exit, force || (state.stdoutDone && state.stderrDone) else { return nil }
            state.finished = true
            let listeners = Array(state.listeners.values)
            state.listeners = [:]
            try? state.stdin?.close()
            state.stdin = nil
            return (exit, listeners)
        }
        guard let (exit, listeners) = result else { return }
        for listener in listeners {
            listener.yield(.end(exit))
            listener.finish()
        }
    }

    private static func signalName(_ number: Int32) -> String {
        switch number {
        case SIGKILL: return "killed"
        case SIGTERM: return "terminated"
        case SIGINT: return "interrupt"
        case SIGHUP: return "hangup"
        case SIGPIPE: return "broken pipe"
        default: return "signal \(number)"
        }
    }
}

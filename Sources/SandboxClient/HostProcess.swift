import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A program run on this machine (outside any sandbox), waited for on a thread of its own.
///
/// Foundation's `Process` (on Linux) learns that a child ended when a socket the child inherited
/// closes; any grandchild that outlives the child keeps it open, and whoever waited stayed
/// suspended for good (seen as whole test runs that never finished). Here the child is started with `posix_spawn` (clean signal mask, no
/// inherited descriptors, see ``LocalSpawn``), its output goes to temporary files (a chatty
/// program never blocks on a full pipe), and a dedicated thread reaps exactly that pid.
public final class HostProcess: Sendable {
    /// The result of a finished program.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        /// Whether it was killed for running past its timeout.
        public var timedOut: Bool
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// The process id.
    public let pid: Int32
    private let folder: String

    private init(pid: Int32, folder: String) {
        self.pid = pid
        self.folder = folder
    }

    /// Starts `executable` (an absolute path) with stdin `/dev/null`.
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String],
                             directory: String? = nil) throws(SandboxError) -> HostProcess {
        var template = Array((NSTemporaryDirectory() + "/ca-host-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw LocalPOSIX.failure("a temporary folder", errno)
        }
        let folder = String(cString: made)
        let out = open(folder + "/stdout", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let err = open(folder + "/stderr", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { LocalPOSIX.close(out); LocalPOSIX.close(err) }
        guard out >= 0, err >= 0 else {
            try? FileManager.default.removeItem(atPath: folder)
            throw LocalPOSIX.failure(folder, errno)
        }
        let launch = LocalLaunch(executable: executable, arguments: arguments, environment: environment, directory: directory,
                                 standardInput: false, signalsProcessGroup: false)
        switch LocalSpawn.spawn(launch, standardInput: nil, standardOutput: out, standardError: err) {
        case .success(let pid):
            return HostProcess(pid: pid, folder: folder)
        case .failure(let error):
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
    }

    /// Runs a program to its end (see ``start(_:_:environment:directory:)`` and ``wait(timeout:)``).
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String], directory: String? = nil,
                           timeout: Duration? = nil) async throws(SandboxError) -> Output {
        await try start(executable, arguments, environment: environment, directory: directory).wait(timeout: timeout)
    }

    /// Sends a signal (unless the process was already reaped).
    public func signal(_ signal: Int32) {
        _ = kill(pid, signal)
    }

    /// Waits for the end (killing the process after `timeout`) on a thread of its own and
    /// returns its output. Call once.
    public func wait(timeout: Duration? = nil) async -> Output {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: self.waitBlocking(timeout: timeout)) }
            thread.stackSize = 256 << 10
            thread.start()
        }
    }

    /// ``wait(timeout:)`` on the calling thread, which it blocks (never call it from the
    /// cooperative pool of Swift concurrency).
    public func waitBlocking(timeout: Duration? = nil) -> Output {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        var status: Int32 = 0
        var timedOut = false
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { status = 0x7F; break }
            if let deadline, !timedOut, clock.now >= deadline {
                timedOut = true
                _ = kill(pid, SIGKILL)
            }
            usleep(2_000)
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Output(status: code, stdout: (try? Data(contentsOf: URL(fileURLWithPath: folder + "/stdout"))) ?? Data(),
                      stderr: (try? Data(contentsOf: URL(fileURLWithPath: folder + "/stderr"))) ?? Data(), timedOut: timedOut)
    }
}

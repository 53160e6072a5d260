import CATestSupport
import Foundation

/// Runs the built `ca` executable as a user would.
struct CLI {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] }
    }

    /// The `ca` binary next to the test bundle (both are built by `swift build --build-tests`).
    static var binary: String { CABinary.path }

    var environment: [String: String]

    /// A `ca` with its own CA_HOME under `root`, the real Claude Code and the fake API at `fake`.
    static func local(root: URL, fake: FakeAnthropicServer, apiKey: String, extra: [String: String] = [:]) throws -> CLI {
        var environment = [
            "CA_HOME": root.appendingPathComponent("home").path,
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "ANTHROPIC_API_KEY": apiKey,
            "ANTHROPIC_BASE_URL": fake.baseURL.absoluteString,
            "CA_CLAUDE_BIN": try ClaudeBinary.locate().path,
            "CLAUDE_CODE_MAX_RETRIES": "0",
        ]
        environment.merge(extra) { _, new in new }
        return CLI(environment: environment)
    }

    /// When set, `ca` runs under `ulimit -n` of this many open files.
    var openFileLimit: Int? = nil

    /// Runs `ca` with arguments and waits (at most `timeout` seconds).
    func run(_ arguments: [String], timeout: Double = 120) async throws -> Output {
        let process = try start(arguments)
        return try await finish(process, timeout: timeout)
    }

    /// A started `ca` process. `Process` is thread-safe for the calls made here.
    struct Running: @unchecked Sendable {
        let process: Process
        let out: Pipe
        let err: Pipe
    }

    func start(_ arguments: [String]) throws -> Running {
        let process = Process()
        if let openFileLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(openFileLimit) && exec \"$0\" \"$@\"", Self.binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = arguments
        }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, out: out, err: err)
    }

    /// Waits for a started `ca` (at most `timeout` seconds) on a thread outside the cooperative
    /// pool: the fakes the process talks to are served from that pool.
    func finish(_ running: Running, timeout: Double = 120) async throws -> Output {
        try await BlockingWork.run { try Self.waitBlocking(for: running, timeout: timeout) }
    }

    private static func waitBlocking(for running: Running, timeout: Double) throws -> Output {
        let deadline = Date().addingTimeInterval(timeout)
        // Read concurrently so a chatty process cannot block on a full pipe.
        let box = OutputBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { box.setOut(running.out.fileHandleForReading.readDataToEndOfFile()); group.leave() }
        group.enter()
        DispatchQueue.global().async { box.setErr(running.err.fileHandleForReading.readDataToEndOfFile()); group.leave() }
        let remaining = max(0, deadline.timeIntervalSinceNow)
        guard let exit = ChildExit.wait(process: running.process, timeout: .milliseconds(Int64(remaining * 1000))) else {
            kill(running.process.processIdentifier, SIGTERM)
            throw GitFixture.Failure(description: "ca \(running.process.arguments ?? []) did not finish in \(timeout)s")
        }
        group.wait()
        return Output(status: exit.signaled ? 128 + exit.value : exit.value, stdout: box.out, stderr: box.err)
    }
}

final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var o = Data(), e = Data()
    func setOut(_ d: Data) { lock.lock(); o = d; lock.unlock() }
    func setErr(_ d: Data) { lock.lock(); e = d; lock.unlock() }
    var out: String { lock.lock(); defer { lock.unlock() }; return String(decoding: o, as: UTF8.self) }
    var err: String { lock.lock(); defer { lock.unlock() }; return String(decoding: e, as: UTF8.self) }
}

import Foundation

/// A process to start in a sandbox.
public struct CommandSpec: Sendable, Hashable {
    /// Executable path or name.
    public var executable: String
    /// Arguments after the executable.
    public var arguments: [String]
    /// Working directory; `nil` means the sandbox home.
    public var cwd: String?
    /// Extra environment variables, on top of the sandbox's.
    public var environment: [String: String]
    /// Whether the process gets a stdin pipe. When `false` it reads `/dev/null`.
    public var stdin: Bool

    public init(executable: String, arguments: [String] = [], cwd: String? = nil, environment: [String: String] = [:], stdin: Bool = false) {
        self.executable = executable
        self.arguments = arguments
        self.cwd = cwd
        self.environment = environment
        self.stdin = stdin
    }

    /// A `/bin/bash -c SCRIPT` command (not a login shell, so profiles cannot change it).
    public init(shell script: String, cwd: String? = nil, environment: [String: String] = [:], stdin: Bool = false) {
        self.init(executable: "/bin/bash", arguments: ["-c", script], cwd: cwd, environment: environment, stdin: stdin)
    }
}

/// Something a running process produced.
public enum CommandEvent: Sendable, Hashable {
    /// Bytes written to stdout, in arbitrary chunks (not line-aligned).
    case stdout(Data)
    /// Bytes written to stderr, in arbitrary chunks.
    case stderr(Data)
    /// The process ended. Always the last event.
    case exit(CommandExit)
}

/// How a process ended.
public struct CommandExit: Sendable, Hashable {
    /// Exit code; `-1` when killed by a signal.
    public var code: Int32
    /// Human-readable status, such as `exit status 1` or `signal: killed`.
    public var status: String

    public init(code: Int32, status: String) {
        self.code = code
        self.status = status
    }

    public var succeeded: Bool { code == 0 }
}

/// Collected output of a finished process.
public struct CommandResult: Sendable, Hashable {
    public var stdout: Data
    public var stderr: Data
    public var exit: CommandExit
    /// Whether output beyond the collection limit was dropped (see ``CommandHandle/collect(limit:)``).
    public var truncated = false

    public init(stdout: Data, stderr: Data, exit: CommandExit) {
        self.stdout = stdout
        self.stderr = stderr
        self.exit = exit
    }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// A signal to send to a process.
public enum SandboxSignal: String, Sendable, Hashable {
    case terminate = "SIGNAL_SIGTERM"
    case kill = "SIGNAL_SIGKILL"
}

/// An entry of a sandbox's file system.
public struct FileEntry: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable { case file, directory, symlink, other }
    public var name: String
    public var path: String
    public var kind: Kind
    public var size: Int64
    public var symlinkTarget: String?

    public init(name: String, path: String, kind: Kind, size: Int64, symlinkTarget: String? = nil) {
        self.name = name
        self.path = path
        self.kind = kind
        self.size = size
        self.symlinkTarget = symlinkTarget
    }
}

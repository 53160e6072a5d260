import Foundation

/// Everything needed to start one host process for a local sandbox.
struct LocalLaunch: Sendable, Hashable {
    /// Absolute path of the program to start (`bwrap`, or the command itself without isolation).
    var executable: String
    /// Arguments after the program.
    var arguments: [String]
    /// The complete environment of the started process. With bubblewrap it passes on to the
    /// command, which keeps secrets out of the command line (`/proc/<pid>/cmdline`).
    var environment: [String: String]
    /// Host working directory, or `nil` to keep this process's.
    var directory: String?
    /// Whether the process gets a stdin pipe (otherwise `/dev/null`).
    var standardInput: Bool
    /// Whether signals go to the process group (no isolation) rather than to the process
    /// (bubblewrap, which takes its whole PID namespace down with it).
    var signalsProcessGroup: Bool
    /// A unique argument of this `bwrap` command line (`nil` without bubblewrap), which finds the
    /// sandbox's init process — a fork of `bwrap` — when `bwrap` was killed before the init
    /// process armed `--die-with-parent`.
    var marker: String? = nil
}

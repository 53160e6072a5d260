import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Learns that a child process ended without reaping it (`waitid` with `WNOWAIT`), for
/// children started with Foundation's `Process`.
///
/// On Linux, Foundation learns of a child's end when its end of a socket pair, inherited by
/// the child, closes. A grandchild that outlives the child (a detached `ca` worker, a sandbox
/// process) keeps that socket open, so `terminationHandler` and `waitUntilExit` wait for the
/// grandchild instead, or forever. Blocks the calling thread.
public enum ChildExit {
    public struct Status: Sendable, Hashable {
        /// The exit code, or the signal number when ``signaled``.
        public var value: Int32
        public var signaled: Bool
    }

    /// Waits until `process` ended (at most `timeout`); `nil` on timeout.
    ///
    /// Whichever sees the end first reports it: our `waitid` (the child is still a zombie), or
    /// Foundation, which may have reaped it already (then `waitid` fails with `ECHILD` and
    /// Foundation's own status is read once it has recorded it).
    public static func wait(process: Process, timeout: Duration? = nil) -> Status? {
        let pid = process.processIdentifier
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        while true {
            var info = siginfo_t()
            let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | WNOHANG)
            if result == 0, info._sifields._sigchld.si_pid == pid {
                let code = info.si_code
                return Status(value: info._sifields._sigchld.si_status, signaled: code == CLD_KILLED || code == CLD_DUMPED)
            }
            if result != 0 && errno == ECHILD {
                // Already reaped by Foundation: its status follows right after the reap.
                while process.isRunning {
                    if let deadline, clock.now >= deadline { return nil }
                    usleep(1_000)
                }
                return Status(value: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal)
            }
            if let deadline, clock.now >= deadline { return nil }
            usleep(2_000)
        }
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to its end and reports its exit status, output and peak memory, on a thread
/// of its own (never on the cooperative pool).
///
/// The peak is the process's own high-water mark (`VmHWM` in `/proc/<pid>/status`, sampled
/// every 2 ms until it exits). `ru_maxrss` from `wait4` is not used: it is the largest of the
/// process and every descendant it waited for, so a `ca` run reported the agent's memory.
public enum MeasuredProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// Peak resident set size of the process itself (not its children), in bytes.
        public var peakResidentBytes: Int
    }

    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]) async throws -> Result {
        try await BlockingWork.run {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ca-measured-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let outPath = folder.appendingPathComponent("out").path, errPath = folder.appendingPathComponent("err").path
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { (argv + envp).forEach { free($0) } }
            var pid: pid_t = 0
            let code = posix_spawn(&pid, executable, &actions, nil, argv, envp)
            guard code == 0 else { throw GitFixture.Failure(description: "cannot start \(executable): \(code)") }
            var peak = 0
            var info = siginfo_t()
            // Sample until the process has ended (seen without reaping it, so the pid stays ours).
            while true {
                peak = max(peak, highWaterMark(pid) ?? 0)
                if waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0, info._sifields._sigchld.si_pid == pid { break }
                usleep(2_000)
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let exit = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            return Result(status: exit,
                          stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                          stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                          peakResidentBytes: peak)
        }
    }

    /// `VmHWM` of a live process, in bytes.
    static func highWaterMark(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") else { return nil }
        return kilobytes * 1024
    }
}

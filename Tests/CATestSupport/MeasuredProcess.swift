import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to its end and reports its exit status, output and peak memory (`ru_maxrss`
/// from `wait4`), on a thread of its own (never on the cooperative pool).
public enum MeasuredProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// Peak resident set size of the process, in bytes.
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
            var status: Int32 = 0
            var usage = rusage()
            while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
            let exit = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            return Result(status: exit,
                          stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                          stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                          peakResidentBytes: Int(usage.ru_maxrss) * 1024)
        }
    }
}

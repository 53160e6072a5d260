import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts `ca task _run ID` as a background process in its own session.
enum DetachedLauncher {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func spawn(taskID: String, logFolder: URL) throws {
        try FileManager.default.createDirectory(at: logFolder, withIntermediateDirectories: true)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let logPath = logFolder.appendingPathComponent("\(taskID).log").path

        // The child must not keep any of our descriptors (a caller's pipe would never see EOF).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc ≥ 2.26): a new session, so closing the terminal does not stop the task.
        posix_spawnattr_setflags(&attributes, Int16(0x80))

        let argv = [executable, "task", "_run", taskID]
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs where p != nil { free(p) } }
        var cEnv = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cEnv where p != nil { free(p) } }

        var pid = pid_t()
        let rc = posix_spawn(&pid, executable, &actions, &attributes, &cArgs, &cEnv)
        guard rc == 0 else { throw Failure(description: String(cString: strerror(rc))) }
    }
}

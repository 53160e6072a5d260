import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts host processes with `posix_spawn`.
///
/// Foundation's `Process` is not used because the child must not inherit this process's signal
/// state: processes started from Swift concurrency threads inherit the libdispatch worker's mask,
/// which blocks nearly every signal, so `SIGTERM` would not even stop `bwrap`; and signals this
/// process ignores (`SIGPIPE` in many servers) would stay ignored in the sandbox. Here the child
/// starts with an empty signal mask, default signal actions, its own process group, and no file
/// descriptor but its stdin, stdout and stderr.
enum LocalSpawn {
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// Starts `launch` with the given descriptors as its stdin (`nil`: `/dev/null`), stdout and
    /// stderr. Returns the pid.
    static func spawn(_ launch: LocalLaunch, standardInput: Int32?, standardOutput: Int32, standardError: Int32) -> Result<Int32, SandboxError> {
        var executable = launch.executable
        var arguments = [launch.executable] + launch.arguments

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardInput {
            posix_spawn_file_actions_adddup2(&actions, standardInput, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
        posix_spawn_file_actions_adddup2(&actions, standardError, 2)
        if let addClosefrom = symbol("posix_spawn_file_actions_addclosefrom_np", as: AddClosefrom.self) {
            _ = addClosefrom(&actions, 3)
        } else {
            // Descriptors opened meanwhile by other threads are close-on-exec if they are ours.
            for fd in openDescriptors() where fd > 2 {
                posix_spawn_file_actions_addclose(&actions, fd)
            }
        }
        if let directory = launch.directory {
            if let addChdir = symbol("posix_spawn_file_actions_addchdir_np", as: AddChdir.self) {
                _ = addChdir(&actions, directory)
            } else {
                executable = "/bin/sh"
                arguments = ["/bin/sh", "-c", "cd -- \"$0\" && exec \"$@\"", directory] + [launch.executable] + launch.arguments
            }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let environment = launch.environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let code = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            }
        }
        guard code == 0 else {
            return .failure(.io("cannot start \(launch.executable): \(LocalPOSIX.describe(code))"))
        }
        return .success(pid)
    }

    /// How a process ended, from its `waitpid` status.
    static func exit(fromWaitStatus status: Int32) -> CommandExit {
        let signal = status & 0x7f
        if signal == 0 {
            let code = (status >> 8) & 0xff
            return CommandExit(code: code, status: "exit status \(code)")
        }
        return CommandExit(code: -1, status: "signal: \(signalName(signal))")
    }

    /// Go-style names, as the Novita and E2B backends report them.
    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: return "killed"
        case SIGTERM: return "terminated"
        case SIGINT: return "interrupt"
        case SIGHUP: return "hangup"
        case SIGQUIT: return "quit"
        case SIGPIPE: return "broken pipe"
        case SIGSEGV: return "segmentation fault"
        case SIGABRT: return "aborted"
        case SIGBUS: return "bus error"
        case SIGFPE: return "floating point exception"
        case SIGILL: return "illegal instruction"
        default: return "signal \(signal)"
        }
    }

    /// A C function of the C library, when it has it.
    private static func symbol<Function>(_ name: String, as type: Function.Type) -> Function? {
        #if os(Linux)
        guard let address = dlsym(nil, name) else { return nil }
        return unsafeBitCast(address, to: type)
        #else
        return nil
        #endif
    }

    /// The descriptors open in this process.
    private static func openDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))
            ?? (try? FileManager.default.contentsOfDirectory(atPath: "/dev/fd")) ?? []
        return names.compactMap(Int32.init)
    }

    /// Calls `body` with a `NULL`-terminated C array of copies of `strings`.
    private static func withCStrings<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result) -> Result {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The configuration of a ``LocalSandboxProvider``, and how it turns commands into host processes.
struct LocalSandboxSettings: Sendable, Hashable {
    /// `PATH` every sandbox starts from; the host's entries are appended.
    static let standardPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// Where `bwrap` is looked for besides the host `PATH`.
    static let bubblewrapLocations = ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"]
    /// Host folders that bubblewrap replaces anyway, so hidden paths under them need no mount.
    static let replacedFolders = ["/home", "/tmp", "/proc", "/dev"]

    /// Absolute folder holding one folder per sandbox.
    var root: String
    var isolation: LocalSandboxProvider.Isolation
    var hiddenPaths: [String]
    var exposedPaths: [String]
    var bubblewrapPath: String?
    /// The host's `PATH`, whose entries are appended to ``standardPath``.
    var hostPath: String
    /// The host user's name, used as `USER` without isolation.
    var hostUser: String?

    /// The sandbox folder `<root>/<id>`, with the root's symbolic links resolved so that the
    /// same sandbox always gets the same path (pid records compare it with command lines).
    func sandboxFolder(id: String) -> String {
        Self.resolved(root) + "/" + id
    }

    // MARK: bubblewrap

    /// Finds the `bwrap` program.
    /// - Throws: ``SandboxError/missingDependency(program:package:)`` when there is none.
    func findBubblewrap() throws(SandboxError) -> String {
        if let bubblewrapPath {
            guard access(bubblewrapPath, X_OK) == 0 else {
                throw .missingDependency(program: "bwrap", package: "bubblewrap")
            }
            return bubblewrapPath
        }
        let candidates = hostPath.split(separator: ":").map { "\($0)/bwrap" } + Self.bubblewrapLocations
        guard let found = candidates.first(where: { $0.hasPrefix("/") && access($0, X_OK) == 0 }) else {
            throw .missingDependency(program: "bwrap", package: "bubblewrap")
        }
        return found
    }

    /// A trivial sandbox run once to check that bubblewrap works on this machine (some kernels
    /// forbid the namespaces it needs).
    func probeLaunch(bubblewrap: String) -> LocalLaunch {
        LocalLaunch(
            executable: bubblewrap,
            arguments: ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/home", "--tmpfs", "/tmp"]
                + Self.namespaceArguments + ["--chdir", "/", "--", "true"],
            environment: ["PATH": sandboxPath(), "LANG": "C.UTF-8"],
            directory: "/",
            standardInput: false,
            signalsProcessGroup: false
        )
    }

    /// Own PID, IPC and UTS namespaces (the network is shared), death with the parent, a new
    /// session (no `TIOCSTI` into a terminal) and no capabilities (bwrap keeps them for root).
    static let namespaceArguments = [
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
    ]

    /// Parts of `/proc` that let root change the host (`/proc/sys/kernel/hostname`,
    /// `/proc/sysrq-trigger`…). bwrap covers them itself only when `access(2)` says they are
    /// writable, which is not the case on every kernel (gVisor), so they are bound read-only
    /// explicitly when this process runs as root. Other users cannot write them anyway.
    static let procfsCovers = ["sys", "sysrq-trigger", "irq", "bus"]

    /// The mount arguments of a sandbox: the read-only host, a fresh `/dev` and `/proc`, the
    /// sandbox's home and `/tmp`, empty read-only tmpfs over `/home` and the hidden paths, and the
    /// re-exposed paths.
    func mountArguments(sandboxFolder: String) -> [String] {
        var arguments = [
            "--ro-bind", "/", "/",
            "--dev", "/dev",
            "--proc", "/proc",
        ]
        if geteuid() == 0 {
            for name in Self.procfsCovers {
                arguments += ["--ro-bind-try", "/proc/" + name, "/proc/" + name]
            }
        }
        arguments += [
            "--tmpfs", "/home",
            "--bind", sandboxFolder + "/home", LocalPathMapper.isolatedHome,
            "--bind", sandboxFolder + "/tmp", LocalPathMapper.isolatedTemporary,
        ]
        let hidden = hiddenMounts()
        var readOnlyAfterwards = ["/home"]
        for path in hidden {
            var info = LocalPOSIX.FileStatus()
            guard lstat(path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                arguments += ["--tmpfs", path]
                readOnlyAfterwards.append(path)
            } else {
                arguments += ["--ro-bind", "/dev/null", path]
            }
        }
        for path in exposedMounts(hidden: hidden) {
            arguments += ["--ro-bind", path, path]
        }
        // The tmpfs stay writable until the exposed paths got their mount points; then they are
        // made read-only too (not recursively: /home/user stays writable).
        for path in readOnlyAfterwards {
            arguments += ["--remount-ro", path]
        }
        return arguments
    }

    /// The hidden paths to mount over: absolute, symbolic links resolved, existing, not under a
    /// folder bubblewrap replaces anyway, and not under another hidden path. Always includes the
    /// root folder of the sandboxes.
    func hiddenMounts() -> [String] {
        var candidates: Set<String> = []
        for path in hiddenPaths + [root] {
            let absolute = Self.absolute(path)
            candidates.insert(absolute)
            candidates.insert(Self.resolved(absolute))
        }
        let usable = candidates.filter { path in
            let parts = LocalPathMapper.components(path)
            var info = LocalPOSIX.FileStatus()
            return !parts.isEmpty
                && !Self.replacedFolders.contains { Self.isInside(path, $0) }
                && lstat(path, &info) == 0 && info.st_mode & S_IFMT != S_IFLNK
        }
        return Self.outermost(usable)
    }

    /// The exposed paths to bind read-only: those (and their resolved targets) that a hidden path
    /// or a replaced folder would otherwise cover, parents first.
    func exposedMounts(hidden: [String]) -> [String] {
        var candidates: Set<String> = []
        for path in exposedPaths {
            let absolute = Self.absolute(path)
            candidates.insert(absolute)
            candidates.insert(Self.resolved(absolute))
        }
        let covering = hidden + ["/home", "/tmp"]
        return candidates
            .filter { path in
                access(path, F_OK) == 0 && covering.contains { Self.isInside(path, $0) }
                    && !["/proc", "/dev"].contains { Self.isInside(path, $0) }
            }
            .sorted { (LocalPathMapper.components($0).count, $0) < (LocalPathMapper.components($1).count, $1) }
    }

    // MARK: Commands

    /// The environment of a sandboxed process: a clean base, then the sandbox's variables, then
    /// the command's.
    func environment(mapper: LocalPathMapper, sandbox: [String: String], command: [String: String]) -> [String: String] {
        var result: [String: String] = [
            "PATH": sandboxPath(),
            "HOME": mapper.home.displayPath,
            "USER": isolation == .bubblewrap ? "user" : (hostUser ?? "user"),
            "LANG": "C.UTF-8",
            "TMPDIR": mapper.temporary.displayPath,
        ]
        result.merge(sandbox) { _, new in new }
        result.merge(command) { _, new in new }
        return result
    }

    /// ``standardPath`` followed by the host's other `PATH` entries.
    func sandboxPath() -> String {
        var entries = Self.standardPath.split(separator: ":").map(String.init)
        for entry in hostPath.split(separator: ":").map(String.init) where !entry.isEmpty && !entries.contains(entry) {
            entries.append(entry)
        }
        return entries.joined(separator: ":")
    }

    /// How to start `command` in the sandbox in `sandboxFolder`.
    func launch(
        _ command: CommandSpec,
        sandboxFolder: String,
        mapper: LocalPathMapper,
        sandboxEnvironment: [String: String],
        bubblewrap: String?
    ) throws(SandboxError) -> LocalLaunch {
        guard !command.executable.isEmpty else {
            throw .invalidArgument("the command has no executable")
        }
        let environment = environment(mapper: mapper, sandbox: sandboxEnvironment, command: command.environment)
        let directory = command.cwd.map { $0.hasPrefix("/") ? $0 : mapper.home.displayPath + "/" + $0 } ?? mapper.home.displayPath
        switch isolation {
        case .bubblewrap:
            guard let bubblewrap else {
                throw .missingDependency(program: "bwrap", package: "bubblewrap")
            }
            // TMPDIR also goes on the command line: a setuid bwrap runs in glibc's secure mode,
            // which drops it from the environment. It is no secret.
            // The marker is unsetting a variable nobody has: no effect, but a unique argument.
            var generator = SystemRandomNumberGenerator()
            let marker = "CA_SANDBOX_LAUNCH_" + String(generator.next() as UInt64, radix: 16)
            let arguments = mountArguments(sandboxFolder: sandboxFolder)
                + Self.namespaceArguments
                + ["--setenv", "TMPDIR", environment["TMPDIR"] ?? LocalPathMapper.isolatedTemporary]
                + ["--unsetenv", marker]
                + ["--chdir", directory, "--", command.executable]
                + command.arguments
            return LocalLaunch(
                executable: bubblewrap, arguments: arguments, environment: environment,
                directory: "/", standardInput: command.stdin, signalsProcessGroup: false, marker: marker
            )
        case .none:
            let hostDirectory = mapper.hostPathIfInside(directory) ?? directory
            let executable = try resolveExecutable(command.executable, directory: hostDirectory, mapper: mapper, path: environment["PATH"] ?? "")
            return LocalLaunch(
                executable: executable, arguments: command.arguments, environment: environment,
                directory: hostDirectory, standardInput: command.stdin, signalsProcessGroup: true
            )
        }
    }

    /// Finds the program of a command started without isolation, as `execvp` would.
    private func resolveExecutable(_ name: String, directory: String, mapper: LocalPathMapper, path: String) throws(SandboxError) -> String {
        if name.contains("/") {
            let absolute = name.hasPrefix("/") ? name : directory + "/" + name
            return mapper.hostPathIfInside(absolute) ?? absolute
        }
        for entry in path.split(separator: ":") where entry.hasPrefix("/") {
            let candidate = "\(entry)/\(name)"
            var info = LocalPOSIX.FileStatus()
            if access(candidate, X_OK) == 0, stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
                return candidate
            }
        }
        throw .invalidArgument("executable not found: \(name)")
    }

    // MARK: Paths


    /// An absolute, lexically normalised path (relative paths are relative to the current folder).
    static func absolute(_ path: String) -> String {
        let base = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return "/" + LocalPathMapper.components(base).joined(separator: "/")
    }

    /// The path with its symbolic links resolved, or the path itself when it does not exist.
    static func resolved(_ path: String) -> String {
        guard let pointer = realpath(path, nil) else { return absolute(path) }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// Whether `path` is `folder` or lies under it.
    static func isInside(_ path: String, _ folder: String) -> Bool {
        let parts = LocalPathMapper.components(path)
        let folderParts = LocalPathMapper.components(folder)
        return parts.starts(with: folderParts)
    }

    /// The paths not inside another of the paths, shortest first.
    static func outermost(_ paths: some Collection<String>) -> [String] {
        let sorted = paths.sorted { (LocalPathMapper.components($0).count, $0) < (LocalPathMapper.components($1).count, $1) }
        var result: [String] = []
        for path in sorted where !result.contains(where: { isInside(path, $0) }) {
            result.append(path)
        }
        return result
    }
}

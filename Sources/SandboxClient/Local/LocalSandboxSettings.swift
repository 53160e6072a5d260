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
    /// The user sandboxed processes run as (when this process is root), see ``LocalSandboxUser``.
    var sandboxUser: LocalSandboxUser? = nil
    /// The program serving ``LocalNetworkBridge`` inside sandboxes (the `ca` executable).
    var helperExecutable: String? = nil

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
    /// forbid the namespaces it needs), with the same namespaces and user switch as a real one.
    func probeLaunch(bubblewrap: String) -> LocalLaunch {
        LocalLaunch(
            executable: bubblewrap,
            arguments: ["--dev", "/dev", "--proc", "/proc"] + systemRootArguments()
                + namespaceArguments + ["--chdir", "/", "--"] + userSwitchPrefix + ["/usr/bin/true"],
            environment: ["PATH": sandboxPath(), "LANG": "C.UTF-8"],
            directory: "/",
            standardInput: false,
            signalsProcessGroup: false
        )
    }

    /// Own PID, IPC, UTS, network and cgroup namespaces, death with the parent, a new session (no
    /// `TIOCSTI` into a terminal) and no capabilities — but the two that ``LocalSandboxUser``
    /// needs to leave root, when this process is root.
    var namespaceArguments: [String] {
        var arguments = [
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try", "--hostname", "ca-sandbox",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        ]
        if sandboxUser != nil {
            arguments += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        }
        return arguments
    }

    /// `setpriv` switching to ``sandboxUser`` (nothing when there is none).
    var userSwitchPrefix: [String] {
        guard let user = sandboxUser else { return [] }
        return [Self.setprivPath, "--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--inh-caps=-all", "--"]
    }

    /// util-linux's `setpriv`, which switches users inside the sandbox when ca runs as root.
    static let setprivPath = "/usr/bin/setpriv"

    /// Parts of `/proc` that let root change the host (`/proc/sys/kernel/hostname`,
    /// `/proc/sysrq-trigger`…). bwrap covers them itself only when `access(2)` says they are
    /// writable, which is not the case on every kernel (gVisor), so they are bound read-only
    /// explicitly when this process runs as root. Other users cannot write them anyway.
    static let procfsCovers = ["sys", "sysrq-trigger", "irq", "bus"]

    /// Top-level folders holding the system's programs and libraries, bound read-only (or
    /// recreated as the symbolic links they are on merged-`/usr` systems).
    static let systemRoots = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]

    /// The entries of `/etc` a toolchain needs; nothing else of the host's `/etc` is visible
    /// (no `shadow`, no ssh host keys, no credentials in `pip.conf` or `gitconfig`).
    static let etcEntries = [
        "alternatives", "ssl", "ca-certificates", "ca-certificates.conf", "pki", "crypto-policies", "resolv.conf", "hosts", "host.conf",
        "nsswitch.conf", "gai.conf", "services", "protocols", "localtime", "timezone", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
        "locale.alias", "mime.types", "magic", "magic.mime", "bash.bashrc", "inputrc", "terminfo", "debian_version", "os-release",
        "lsb-release", "ssh/ssh_config", "ssh/ssh_config.d",
    ]

    /// The system folders (read-only binds, or symbolic links where the host has links).
    func systemRootArguments() -> [String] {
        var arguments: [String] = []
        for path in Self.systemRoots {
            var info = LocalPOSIX.FileStatus()
            guard lstat(path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFLNK, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                arguments += ["--symlink", target, path]
            } else if info.st_mode & S_IFMT == S_IFDIR {
                arguments += ["--ro-bind", path, path]
            }
        }
        return arguments
    }

    /// The bound `/etc` entries that exist on this host.
    func etcMounts() -> [String] {
        Self.etcEntries.map { "/etc/" + $0 }.filter { access($0, F_OK) == 0 }
    }

    /// Where the gateway and the bridge appear inside a sandbox.
    static let gatewayFolder = "/run/ca"
    static let gatewaySocket = "/run/ca/gateway.sock"
    static let helperPath = "/run/ca/helper"
    /// The port the bridge serves inside the sandbox (each sandbox has its own network namespace).
    static let bridgePort = 3128

    /// The mount arguments of a sandbox: a read-only minimal root (the system folders, a few
    /// `/etc` entries, a generated `passwd` and `group`), a fresh `/dev` and `/proc`, empty
    /// `/run`, `/var` and `/home`, the sandbox's home and `/tmp` writable, the gateway's socket
    /// and the bridge when there is a gateway, then the exposed and hidden paths (the more
    /// specific path wins), and everything but the home and `/tmp` made read-only.
    func mountArguments(sandboxFolder: String, gatewaySocket: String? = nil) -> [String] {
        var arguments = ["--dev", "/dev", "--proc", "/proc"]
        if geteuid() == 0 {
            for name in Self.procfsCovers {
                arguments += ["--ro-bind-try", "/proc/" + name, "/proc/" + name]
            }
        }
        // bubblewrap creates missing mount points' parents private to root (0700), which the
        // sandbox's user could not enter: they are made 0755 first.
        var folders: Set<String> = ["/", "/run", "/var", "/home", "/tmp", "/dev", "/proc"]
        func parents(of path: String) -> [String] {
            var result: [String] = []
            var parts = LocalPathMapper.components(path)
            parts.removeLast()
            var current = ""
            for part in parts {
                current += "/" + part
                if folders.insert(current).inserted, !Self.systemRoots.contains(where: { Self.isInside(current, $0) }) {
                    result += ["--perms", "0755", "--dir", current]
                }
            }
            return result
        }
        arguments += systemRootArguments()
        for path in etcMounts() + ["/etc/passwd"] {
            arguments += parents(of: path)
            if path != "/etc/passwd" { arguments += ["--ro-bind", path, path] }
        }
        arguments += [
            "--ro-bind", sandboxFolder + "/etc/passwd", "/etc/passwd",
            "--ro-bind", sandboxFolder + "/etc/group", "/etc/group",
            "--tmpfs", "/run",
            "--dir", "/var",
            "--symlink", "../tmp", "/var/tmp",
            "--tmpfs", "/home",
            "--bind", sandboxFolder + "/home", LocalPathMapper.isolatedHome,
            "--bind", sandboxFolder + "/tmp", LocalPathMapper.isolatedTemporary,
        ]
        if let gatewaySocket, let helperExecutable {
            arguments += parents(of: Self.gatewaySocket)
            arguments += ["--ro-bind", gatewaySocket, Self.gatewaySocket, "--ro-bind", helperExecutable, Self.helperPath]
            for folder in Self.runtimeLibraryFolders(of: helperExecutable) {
                arguments += parents(of: folder) + ["--ro-bind", folder, folder]
            }
        }
        let hidden = hiddenMounts()
        let exposed = exposedMounts(hidden: hidden)
        var readOnlyAfterwards = ["/home", "/run"]
        let layered = (hidden.map { ($0, true) } + exposed.map { ($0, false) })
            .sorted { (LocalPathMapper.components($0.0).count, $0.0) < (LocalPathMapper.components($1.0).count, $1.0) }
        for (path, isHidden) in layered {
            if isHidden {
                var info = LocalPOSIX.FileStatus()
                guard lstat(path, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFDIR {
                    arguments += ["--tmpfs", path]
                    readOnlyAfterwards.append(path)
                } else {
                    arguments += ["--ro-bind", "/dev/null", path]
                }
            } else {
                arguments += parents(of: path) + ["--ro-bind", path, path]
            }
        }
        // The tmpfs stay writable until everything got its mount point; then they are made
        // read-only (not recursively: /home/user and /tmp stay writable), the root last.
        for path in readOnlyAfterwards {
            arguments += ["--remount-ro", path]
        }
        arguments += ["--remount-ro", "/"]
        return arguments
    }

    /// Folders of the bridge program's run path that lie outside the system folders (the Swift
    /// runtime of a development build of ca), which it needs to start.
    static func runtimeLibraryFolders(of executable: String) -> [String] {
        ELFRunpath.folders(of: executable).filter { folder in
            access(folder, F_OK) == 0 && !systemRoots.contains(where: { isInside(folder, $0) }) && !isInside(folder, "/etc")
        }
    }

    /// The host paths the sandbox sees at all: the system folders, the bound `/etc` entries
    /// and the exposed paths.
    func visibleRoots() -> [String] {
        Self.systemRoots + etcMounts() + exposedPaths.map(Self.absolute) + exposedPaths.map { Self.resolved(Self.absolute($0)) }
    }

    /// The hidden paths to mount over: absolute, symbolic links resolved, existing, inside
    /// something the sandbox sees, and not under another hidden path. The root folder of the
    /// sandboxes counts as hidden.
    func hiddenMounts() -> [String] {
        var candidates: Set<String> = []
        for path in hiddenPaths + [root] {
            let absolute = Self.absolute(path)
            candidates.insert(absolute)
            candidates.insert(Self.resolved(absolute))
        }
        let visible = visibleRoots()
        let usable = candidates.filter { path in
            let parts = LocalPathMapper.components(path)
            var info = LocalPOSIX.FileStatus()
            return !parts.isEmpty
                && visible.contains { Self.isInside(path, $0) }
                && lstat(path, &info) == 0 && info.st_mode & S_IFMT != S_IFLNK
        }
        return Self.outermost(usable)
    }

    /// The exposed paths to bind read-only (and their resolved targets), parents first;
    /// never inside `/proc` or `/dev`.
    func exposedMounts(hidden: [String]) -> [String] {
        var candidates: Set<String> = []
        for path in exposedPaths {
            let absolute = Self.absolute(path)
            candidates.insert(absolute)
            candidates.insert(Self.resolved(absolute))
        }
        return candidates
            .filter { path in
                var info = LocalPOSIX.FileStatus()
                return LocalPathMapper.components(path).count > 0 && lstat(path, &info) == 0 && info.st_mode & S_IFMT != S_IFLNK
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
        bubblewrap: String?,
        gatewaySocket: String? = nil
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
            let bridge = gatewaySocket == nil ? [] : [
                Self.helperPath, LocalNetworkBridge.commandName, "serve", "--socket", Self.gatewaySocket, "--port", String(Self.bridgePort), "--",
            ]
            let arguments = mountArguments(sandboxFolder: sandboxFolder, gatewaySocket: gatewaySocket)
                + namespaceArguments
                + ["--setenv", "TMPDIR", environment["TMPDIR"] ?? LocalPathMapper.isolatedTemporary]
                + ["--unsetenv", marker]
                + ["--chdir", directory, "--"]
                + userSwitchPrefix + bridge
                + [command.executable] + command.arguments
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
            // A path of the sandbox (`/tmp/x` is the sandbox's /tmp) when it is there, else the
            // host's own file (a program such as claude under the host's /tmp).
            if let mapped = mapper.hostPathIfInside(absolute), access(mapped, F_OK) == 0 || access(absolute, F_OK) != 0 {
                return mapped
            }
            return absolute
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

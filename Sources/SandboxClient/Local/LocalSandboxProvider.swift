import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The local sandbox backend: sandboxes are folders on this machine and their processes run under
/// [bubblewrap](https://github.com/containers/bubblewrap) (Linux).
///
/// ```swift
/// let provider = LocalSandboxProvider(
///     root: caHome + "/sandboxes",
///     hiddenPaths: [userHome, caHome],          // ~/.ssh, ca's database…
///     exposedPaths: [claudeExecutable]          // needed although under a hidden path
/// )
/// let sandbox = try await provider.create(SandboxSpec(lifetime: 3600, environment: ["API_KEY": key]))
/// let result = try await sandbox.run(script: "echo hello")
/// ```
///
/// ## Isolation
/// The local backend isolates **files and processes, not the network**. Every process runs as
/// `bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /home --bind <sandbox>/home /home/user
/// --bind <sandbox>/tmp /tmp [--tmpfs <hidden>…] [--ro-bind <exposed> <exposed>…] --remount-ro
/// /home [--remount-ro <hidden>…] --unshare-pid --unshare-ipc --unshare-uts --die-with-parent
/// --new-session --cap-drop ALL --chdir <cwd> -- <command>`:
/// - the host file system is read-only; only the sandbox's home (`/home/user`, also the working
///   directory and `HOME`) and `/tmp` are writable, and they live in `<root>/<id>/`;
/// - `/home` is an empty read-only tmpfs apart from `/home/user`, and each hidden path (plus the
///   root folder of the sandboxes) is covered by an empty read-only tmpfs (a hidden file by
///   `/dev/null`); exposed paths are bound back read-only on top;
/// - the sandbox has its own PID, IPC and UTS namespaces, so it sees only its own processes, and
///   all of them die with `bwrap` (and `bwrap` dies with this process);
/// - processes have no capabilities, even when this process runs as root (then `/proc/sys` and
///   the like are also bound read-only), and inherit no file descriptor but stdin, stdout and
///   stderr;
/// - `--new-session` stops a process from pushing input into a terminal (`TIOCSTI`);
/// - the network is **shared** with the host: the agent must reach its API, and it can reach
///   anything else the host can, including services on `localhost`.
///
/// Processes start from a clean environment (`PATH`, `HOME`, `USER`, `LANG`, `TMPDIR`), then the
/// ``SandboxSpec/environment`` and the ``CommandSpec/environment``. The variables are handed to
/// `bwrap` as its own environment, never as arguments, so their values (API keys) do not show in
/// `/proc/<pid>/cmdline`; they are never written to disk either.
///
/// ``Isolation/none`` runs processes directly on the host without any of this, for machines
/// without a working bubblewrap. It is unsafe and must be chosen explicitly.
///
/// ## Across processes
/// Each sandbox folder holds a `sandbox.json` (id, template, metadata, start and expiry) and one
/// `pids/<pid>` record per running `bwrap`, so another process can ``list(metadata:)``,
/// ``connect(id:)`` and ``kill(id:)`` it. Expiry is enforced by a timer in the process that
/// created or connected to the sandbox; sandboxes left behind by a process that died are killed
/// when ``list(metadata:)`` or ``connect(id:)`` finds them expired.
public struct LocalSandboxProvider: SandboxProvider {
    /// How processes of the sandboxes are isolated from the host.
    public enum Isolation: String, Sendable, Hashable, CaseIterable {
        /// Every process runs under bubblewrap (the default).
        case bubblewrap
        /// **Unsafe, no isolation**: processes run directly on the host as this user, in the
        /// sandbox's home folder. Hidden paths are not hidden. For machines without bubblewrap.
        case none
    }

    /// Identifiers look like `lsb-` followed by 12 lowercase letters and digits.
    public static let idPrefix = "lsb-"
    private static let idAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    private static let idLength = 12

    /// `local`.
    public let name = "local"
    /// The folder holding one folder per sandbox.
    public let root: String
    /// How the processes are isolated from the host.
    public let isolation: Isolation
    /// Host paths covered with an empty tmpfs inside the sandboxes.
    public let hiddenPaths: [String]
    /// Host paths bound back read-only although under a hidden path (or under `/home` or `/tmp`).
    public let exposedPaths: [String]
    /// The `bwrap` program; `nil` looks it up in `PATH`.
    public let bubblewrapPath: String?
    /// The program that runs ``LocalNetworkBridge`` inside sandboxes (the `ca` executable);
    /// needed for sandboxes with network access.
    public let helperExecutable: String?
    /// The unprivileged user sandboxed processes run as when this process is root.
    public let sandboxUser: LocalSandboxUser?
    /// The HTTP client the sandboxes' gateways forward service requests with (owned by the caller).
    public let httpClient: SharedHTTPClient?

    private let settings: LocalSandboxSettings
    private let registry = LocalSandboxRegistry()

    /// Creates the provider. Nothing is checked or created until the first sandbox.
    /// - Parameters:
    ///   - root: folder for the sandboxes (the task engine uses `<CA_HOME>/sandboxes`); it is
    ///     created on demand and always hidden from the sandboxes.
    ///   - isolation: ``Isolation/bubblewrap`` unless explicitly asked otherwise.
    ///   - hiddenPaths: host paths the sandboxes must not see, such as the user's home and
    ///     `CA_HOME`. Paths under `/home` or `/tmp` are hidden anyway.
    ///   - exposedPaths: host paths to make visible again, read-only, such as the agent's program
    ///     when it lives under a hidden path.
    ///   - bubblewrapPath: the `bwrap` program, when it is not on `PATH`.
    ///   - helperExecutable: the `ca` executable, which serves the network bridge inside
    ///     sandboxes; without it, sandboxes can only be ``SandboxNetwork/offline``.
    ///   - sandboxUser: the user sandboxed processes run as; by default `nobody` when this
    ///     process is root (see ``LocalSandboxUser``).
    public init(
        root: String,
        isolation: Isolation = .bubblewrap,
        hiddenPaths: [String] = [],
        exposedPaths: [String] = [],
        bubblewrapPath: String? = nil,
        helperExecutable: String? = nil,
        sandboxUser: LocalSandboxUser? = .automatic,
        httpClient: SharedHTTPClient? = nil
    ) {
        self.httpClient = httpClient
        let environment = ProcessInfo.processInfo.environment
        self.root = LocalSandboxSettings.absolute(root)
        self.isolation = isolation
        self.hiddenPaths = hiddenPaths
        self.exposedPaths = exposedPaths
        self.bubblewrapPath = bubblewrapPath
        self.helperExecutable = helperExecutable
        self.sandboxUser = isolation == .bubblewrap ? sandboxUser : nil
        self.settings = LocalSandboxSettings(
            root: self.root,
            isolation: isolation,
            hiddenPaths: hiddenPaths,
            exposedPaths: exposedPaths,
            bubblewrapPath: bubblewrapPath,
            hostPath: environment["PATH"] ?? "",
            hostUser: environment["USER"],
            sandboxUser: self.sandboxUser,
            helperExecutable: helperExecutable
        )
    }

    /// Creates a sandbox folder and arms its expiry timer.
    /// - Throws: ``SandboxError/missingDependency(program:package:)`` without `bwrap`,
    ///   ``SandboxError/configuration(_:)`` when bubblewrap cannot run here.
    public func create(_ spec: SandboxSpec) async throws(SandboxError) -> any Sandbox {
        guard spec.lifetime > 0 else {
            throw .invalidArgument("lifetime must be positive: \(spec.lifetime)")
        }
        let bubblewrap = isolation == .bubblewrap ? try await registry.bubblewrap(settings: settings) : nil
        let gatewayWanted = isolation == .bubblewrap && spec.network.needsGateway
        if gatewayWanted {
            guard let helperExecutable, access(helperExecutable, X_OK) == 0 else {
                throw .configuration("a local sandbox with network access needs ca's bridge program (the ca executable), and none was given")
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io("cannot create the sandbox root \(root): \(error.localizedDescription)")
        }
        let (id, folder) = try makeSandboxFolder()
        var gateway: NetworkGateway?
        do throws(SandboxError) {
            for (name, permissions) in [("home", 0o755), ("tmp", 0o1777), ("pids", 0o700), ("etc", 0o755)] as [(String, mode_t)] {
                guard mkdir(folder + "/" + name, permissions) == 0 else {
                    throw LocalPOSIX.failure(folder + "/" + name, errno)
                }
                _ = chmod(folder + "/" + name, permissions)
            }
            if let sandboxUser {
                guard chown(folder + "/home", sandboxUser.uid, sandboxUser.gid) == 0 else {
                    throw LocalPOSIX.failure(folder + "/home", errno)
                }
            }
            let uid = sandboxUser?.uid ?? getuid()
            let gid = sandboxUser?.gid ?? getgid()
            try LocalPOSIX.writeFile(folder + "/etc/passwd", Data(LocalSandboxUser.passwd(uid: uid, gid: gid).utf8))
            try LocalPOSIX.writeFile(folder + "/etc/group", Data(LocalSandboxUser.group(gid: gid).utf8))
            if gatewayWanted {
                gateway = try await NetworkGateway.start(
                    socketPath: try Self.gatewaySocketPath(sandboxFolder: folder), network: spec.network,
                    bridgePort: LocalSandboxSettings.bridgePort, owner: sandboxUser.map { ($0.uid, $0.gid) }, client: httpClient?.client)
            }
            let now = Date()
            let record = LocalSandboxRecord(
                id: id, template: spec.template, metadata: spec.metadata,
                startedAt: now, expiresAt: now.addingTimeInterval(TimeInterval(spec.lifetime)),
                isolation: isolation.rawValue
            )
            try record.write(sandboxFolder: folder)
            let sandbox = LocalSandbox(id: id, hostFolder: folder, settings: settings, environment: spec.environment, bubblewrap: bubblewrap,
                                       registry: registry, gateway: gateway)
            await sandbox.scheduleExpiry(at: record.expiresAt)
            await registry.add(sandbox)
            return sandbox
        } catch {
            await gateway?.shutdown()
            try? LocalFileSystem.removeHostFolder(folder)
            throw error
        }
    }

    /// Where the gateway of a sandbox listens: `<sandbox>/gateway.sock`, or a private folder of
    /// `/tmp` when that path is too long for a Unix socket (108 bytes).
    static func gatewaySocketPath(sandboxFolder: String) throws(SandboxError) -> String {
        let preferred = sandboxFolder + "/gateway.sock"
        if preferred.utf8.count < 100 { return preferred }
        var template = Array("/tmp/ca-gateway-XXXXXX".utf8CString)
        guard let folder = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw LocalPOSIX.failure("/tmp/ca-gateway-*", errno)
        }
        let path = String(cString: folder) + "/gateway.sock"
        // Remembered in the sandbox folder, so that removing the sandbox removes it too.
        try? LocalPOSIX.writeFile(sandboxFolder + "/gateway.link", Data(path.utf8))
        return path
    }

    /// Returns the sandbox `id`: the same object when this provider created or connected to it,
    /// otherwise a new one for its folder (possibly made by another process), which then also
    /// enforces its expiry.
    /// - Throws: ``SandboxError/sandboxNotFound(_:)`` when there is no such live sandbox.
    public func connect(id: String) async throws(SandboxError) -> any Sandbox {
        guard Self.isValidID(id) else {
            throw .sandboxNotFound(id)
        }
        let folder = settings.sandboxFolder(id: id)
        if let sandbox = await registry.sandbox(id: id) {
            if FileManager.default.fileExists(atPath: folder + "/" + LocalSandboxRecord.fileName) {
                return sandbox
            }
            await registry.remove(id: id)
        }
        let record = try LocalSandboxRecord.read(sandboxFolder: folder)
        if record.expiresAt <= Date() {
            _ = try await killFolder(folder)
            throw .sandboxNotFound("\(id) expired")
        }
        let bubblewrap = isolation == .bubblewrap ? try await registry.bubblewrap(settings: settings) : nil
        let sandbox = LocalSandbox(id: id, hostFolder: folder, settings: settings, environment: [:], bubblewrap: bubblewrap, registry: registry)
        await sandbox.scheduleExpiry(at: record.expiresAt)
        await registry.add(sandbox)
        return sandbox
    }

    /// Lists the live sandboxes whose metadata contains every pair of `metadata`, oldest first.
    /// Folders without a readable `sandbox.json` are skipped; expired sandboxes are killed.
    public func list(metadata: [String: String]) async throws(SandboxError) -> [SandboxInfo] {
        try await listing(metadata: metadata).sandboxes
    }

    /// Lists the live sandboxes whose metadata contains every pair of `metadata`, oldest first,
    /// killing expired ones on the way. A sandbox folder whose `sandbox.json` exists but cannot
    /// be read, or an expired sandbox that cannot be removed, is named in the problems and the
    /// listing goes on. A folder without `sandbox.json` is skipped silently: it is being created
    /// or removed.
    public func listing(metadata: [String: String]) async throws(SandboxError) -> SandboxListing {
        let base = LocalSandboxSettings.resolved(root)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else {
            return SandboxListing(sandboxes: [])
        }
        var result: [SandboxInfo] = []
        var problems: [String: String] = [:]
        let now = Date()
        for name in names.sorted() where Self.isValidID(name) {
            let folder = base + "/" + name
            let record: LocalSandboxRecord
            do throws(SandboxError) {
                record = try LocalSandboxRecord.read(sandboxFolder: folder)
            } catch {
                if Self.hasRecord(folder) {
                    problems[name] = "its \(LocalSandboxRecord.fileName) is not a readable sandbox record; ca leaves \(folder) alone (delete it by hand)"
                }
                continue
            }
            guard record.id == name else {
                problems[name] = "its \(LocalSandboxRecord.fileName) names another sandbox (\(record.id)); ca leaves \(folder) alone (delete it by hand)"
                continue
            }
            if record.expiresAt <= now {
                do throws(SandboxError) {
                    _ = try await kill(id: name)
                } catch {
                    problems[name] = "expired, but could not be removed: \(error)"
                }
                continue
            }
            if metadata.allSatisfy({ record.metadata[$0.key] == $0.value }) {
                result.append(record.info)
            }
        }
        return SandboxListing(sandboxes: result.sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }, problems: problems)
    }

    /// Kills a sandbox's processes (also those started by other processes) and deletes its
    /// folder. Returns `false` when there is no such sandbox folder.
    @discardableResult
    public func kill(id: String) async throws(SandboxError) -> Bool {
        guard Self.isValidID(id) else {
            return false
        }
        if let sandbox = await registry.sandbox(id: id) {
            let exists = FileManager.default.fileExists(atPath: sandbox.hostFolder)
            try await sandbox.kill()
            return exists
        }
        return try await killFolder(settings.sandboxFolder(id: id))
    }

    // MARK: Helpers

    /// Kills the recorded processes of a sandbox folder and deletes it.
    private func killFolder(_ folder: String) async throws(SandboxError) -> Bool {
        guard FileManager.default.fileExists(atPath: folder) else {
            return false
        }
        await LocalProcessTable(sandboxFolder: folder).killAll()
        try LocalFileSystem.removeHostFolder(folder)
        return true
    }

    /// Whether something (readable or not) is at the place of a sandbox folder's `sandbox.json`.
    private static func hasRecord(_ folder: String) -> Bool {
        var info = LocalPOSIX.FileStatus()
        return lstat(folder + "/" + LocalSandboxRecord.fileName, &info) == 0
    }

    /// Creates a new, empty sandbox folder with a fresh random id.
    private func makeSandboxFolder() throws(SandboxError) -> (id: String, folder: String) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<16 {
            let suffix = String((0..<Self.idLength).map { _ in Self.idAlphabet.randomElement(using: &generator)! })
            let id = Self.idPrefix + suffix
            let folder = settings.sandboxFolder(id: id)
            if mkdir(folder, 0o700) == 0 {
                return (id, folder)
            }
            guard errno == EEXIST else {
                throw LocalPOSIX.failure(folder, errno)
            }
        }
        throw .io("cannot pick a free sandbox id in \(root)")
    }

    /// Whether `id` has the shape of a local sandbox id (which also keeps it a plain file name).
    public static func isValidID(_ id: String) -> Bool {
        guard id.hasPrefix(idPrefix) else { return false }
        let suffix = id.dropFirst(idPrefix.count)
        return suffix.count == idLength && suffix.allSatisfy { idAlphabet.contains($0) }
    }
}

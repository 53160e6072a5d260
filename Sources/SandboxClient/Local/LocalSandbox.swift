import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A sandbox of the ``LocalSandboxProvider``: a folder on this machine whose processes run under
/// bubblewrap.
///
/// Get one from ``LocalSandboxProvider/create(_:)`` or ``LocalSandboxProvider/connect(id:)``.
/// The sandbox's home is `/home/user` inside the sandbox (the host folder `<root>/<id>/home`) and
/// its `/tmp` is `<root>/<id>/tmp`; the rest of the host file system is visible read-only, except
/// the hidden paths. The file operations serve only the home and `/tmp`.
///
/// Without isolation (``LocalSandboxProvider/Isolation/none``) processes run directly on the host:
/// ``homeDirectory`` is then the host path of the home folder, commands start there with `HOME`
/// and `TMPDIR` pointing into the sandbox folder, and nothing stops them from reaching elsewhere.
///
/// The environment of the ``SandboxSpec`` lives only in memory, in the object that
/// ``LocalSandboxProvider/create(_:)`` returned (a `connect` from the same provider returns that
/// same object). A sandbox connected from another process does not know it; pass the variables
/// with each command there.
public actor LocalSandbox: Sandbox {
    /// The sandbox id, `lsb-` and 12 lowercase letters and digits.
    public nonisolated let id: String
    /// `/home/user`, or the host path of the home folder without isolation.
    public nonisolated let homeDirectory: String
    /// The sandbox's folder on the host, `<root>/<id>`.
    public nonisolated let hostFolder: String

    private nonisolated let settings: LocalSandboxSettings
    private nonisolated let mapper: LocalPathMapper
    private nonisolated let fileSystem: LocalFileSystem
    private nonisolated let processTable: LocalProcessTable
    private nonisolated let environment: [String: String]
    private nonisolated let bubblewrap: String?
    private nonisolated let registry: LocalSandboxRegistry
    /// ca's network gateway for this sandbox, when it has network access.
    private nonisolated let gateway: NetworkGateway?
    /// The processes this object started that are still running.
    private nonisolated let processes = LocalLock<[Int32: LocalProcess]>([:])

    private var killed = false
    private var expiryTask: Task<Void, Never>?

    init(id: String, hostFolder: String, settings: LocalSandboxSettings, environment: [String: String], bubblewrap: String?,
         registry: LocalSandboxRegistry, gateway: NetworkGateway? = nil) {
        self.id = id
        self.hostFolder = hostFolder
        self.settings = settings
        self.environment = environment
        self.bubblewrap = bubblewrap
        self.registry = registry
        self.gateway = gateway
        let mapper = LocalPathMapper(sandboxFolder: hostFolder, isolated: settings.isolation == .bubblewrap)
        self.mapper = mapper
        self.homeDirectory = mapper.home.displayPath
        self.fileSystem = LocalFileSystem(mapper: mapper, owner: settings.sandboxUser)
        self.processTable = LocalProcessTable(sandboxFolder: hostFolder)
    }

    deinit {
        expiryTask?.cancel()
    }

    // MARK: Processes

    /// Starts a process in the sandbox.
    ///
    /// The handle's ``CommandHandle/pid`` is the **host** pid of the `bwrap` process (inside the
    /// sandbox the command has a small pid of its own namespace); without isolation it is the
    /// command's pid. ``CommandHandle/signal(_:)`` signals `bwrap`, which takes every process of
    /// the sandbox's PID namespace down with it (without isolation: the command's process group).
    public func start(_ command: CommandSpec) async throws(SandboxError) -> CommandHandle {
        guard !killed, FileManager.default.fileExists(atPath: hostFolder + "/" + LocalSandboxRecord.fileName) else {
            throw .sandboxNotFound(id)
        }
        let launch = try settings.launch(command, sandboxFolder: hostFolder, mapper: mapper, sandboxEnvironment: environment, bubblewrap: bubblewrap,
                                         gatewaySocket: gateway?.socketPath)
        let table = processTable
        let processes = self.processes
        let isProcessGroup = launch.signalsProcessGroup
        let process = try await LocalProcess.start(
            launch,
            onStarted: { pid in table.add(pid: pid, isProcessGroup: isProcessGroup) },
            onExited: { pid in
                table.remove(pid: pid)
                processes.withLock { $0[pid] = nil }
            }
        )
        processes.withLock { $0[process.pid] = process }
        if process.hasExited {
            processes.withLock { $0[process.pid] = nil }
        }
        if killed {
            // kill() ran while the process was starting.
            process.signal(SIGKILL)
            throw .sandboxNotFound(id)
        }
        return CommandHandle(
            pid: Int(process.pid),
            events: process.events,
            sendInput: { data throws(SandboxError) in try await process.sendInput(data) },
            closeInput: { await process.closeInput() },
            signal: { signal in
                process.signal(signal == .kill ? SIGKILL : SIGTERM)
            }
        )
    }

    // MARK: Network

    /// The gateway as processes inside see it, when this sandbox has network access (see
    /// ``SandboxNetwork``); `nil` for an offline sandbox.
    public nonisolated var networkGateway: SandboxGatewayEndpoints? {
        guard gateway != nil else { return nil }
        return SandboxGatewayEndpoints(
            proxyURL: "http://127.0.0.1:\(LocalSandboxSettings.bridgePort)",
            sshProxyCommand: "\(LocalSandboxSettings.helperPath) \(LocalNetworkBridge.commandName) connect --socket \(LocalSandboxSettings.gatewaySocket) %h %p")
    }

    // MARK: Files

    /// Reads a whole file of the home or `/tmp`.
    ///
    /// Symbolic links are followed only while they stay in the sandbox; one that leads to a host
    /// file makes this throw ``SandboxError/invalidArgument(_:)``.
    public nonisolated func readFile(_ path: String, maximumSize: Int) async throws(SandboxError) -> Data {
        try fileSystem.readFile(path, maximumSize: maximumSize)
    }

    /// Writes a whole file atomically, creating parent folders; never writes through a symbolic
    /// link that leaves the sandbox.
    public nonisolated func writeFile(_ path: String, contents: Data) async throws(SandboxError) {
        try fileSystem.writeFile(path, contents: contents)
    }

    /// Lists a folder of the home or `/tmp` (depth at most 64). Links are listed, not followed.
    public nonisolated func listDirectory(_ path: String, depth: Int) async throws(SandboxError) -> [FileEntry] {
        try fileSystem.listDirectory(path, depth: depth)
    }

    /// The entry at a path; a symbolic link is reported as ``FileEntry/Kind/symlink`` with its
    /// target, not followed.
    public nonisolated func stat(_ path: String) async throws(SandboxError) -> FileEntry? {
        try fileSystem.stat(path)
    }

    /// Creates a folder and its parents in the home or `/tmp`. Returns `false` when it existed.
    @discardableResult
    public nonisolated func makeDirectory(_ path: String) async throws(SandboxError) -> Bool {
        try fileSystem.makeDirectory(path)
    }

    /// Removes a file, a link or a folder with its contents; removing nothing is not an error.
    public nonisolated func remove(_ path: String) async throws(SandboxError) {
        try fileSystem.remove(path)
    }

    // MARK: Lifetime

    /// Moves the expiry to `seconds` from now and records it in `sandbox.json`.
    public func setLifetime(seconds: Int) async throws(SandboxError) {
        guard seconds >= 0 else {
            throw .invalidArgument("lifetime must not be negative: \(seconds)")
        }
        guard !killed else {
            throw .sandboxNotFound(id)
        }
        var record = try LocalSandboxRecord.read(sandboxFolder: hostFolder)
        record.expiresAt = Date(timeIntervalSinceNow: TimeInterval(seconds))
        try record.write(sandboxFolder: hostFolder)
        scheduleExpiry(at: record.expiresAt)
    }

    /// Arms the timer that kills the sandbox at `date`.
    func scheduleExpiry(at date: Date) {
        expiryTask?.cancel()
        expiryTask = Task { [weak self] in
            let delay = date.timeIntervalSinceNow
            if delay > 0 {
                do {
                    try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
                } catch {
                    return
                }
            }
            await self?.expire()
        }
    }

    private func expire() async {
        guard !killed else { return }
        expiryTask = nil
        // Another process may have extended the lifetime meanwhile.
        if let record = try? LocalSandboxRecord.read(sandboxFolder: hostFolder), record.expiresAt.timeIntervalSinceNow > 0.01 {
            scheduleExpiry(at: record.expiresAt)
            return
        }
        try? await kill()
    }

    /// Kills every process of the sandbox (including those started by other processes, found
    /// through the pid records), waits until they are gone and deletes the sandbox folder.
    /// Killing a dead sandbox is not an error.
    public func kill() async throws(SandboxError) {
        killed = true
        expiryTask?.cancel()
        expiryTask = nil
        await processTable.killAll()
        // Processes whose record was not written yet, or that ran when the records were read.
        let running = processes.withLock { Array($0.values) }
        for process in running {
            process.signal(SIGKILL)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        while running.contains(where: { !$0.hasExited }) && clock.now < deadline {
            await LocalProcessTable.pause()
        }
        await registry.remove(id: id)
        await gateway?.shutdown()
        try LocalFileSystem.removeHostFolder(hostFolder)
    }
}

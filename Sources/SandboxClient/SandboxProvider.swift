import Foundation

/// A sandbox backend: creates, finds, lists and kills sandboxes.
///
/// The shape follows the Novita / E2B model (a control plane that manages sandboxes and a
/// data plane inside each sandbox that runs processes and serves files), so that every backend —
/// the local bubblewrap one, Novita and E2B — looks the same to the task engine.
public protocol SandboxProvider: Sendable {
    /// Short backend name, such as `local`, `novita` or `e2b`.
    var name: String { get }

    /// Starts a new sandbox.
    func create(_ spec: SandboxSpec) async throws(SandboxError) -> any Sandbox

    /// Attaches to a live sandbox created earlier (possibly by another process).
    func connect(id: String) async throws(SandboxError) -> any Sandbox

    /// Lists live sandboxes whose metadata contains every pair of `metadata`.
    func list(metadata: [String: String]) async throws(SandboxError) -> [SandboxInfo]

    /// Lists like ``list(metadata:)``, and also names the sandboxes that could not be listed or
    /// cleaned up. It throws only when the backend cannot be listed at all.
    func listing(metadata: [String: String]) async throws(SandboxError) -> SandboxListing

    /// Kills a sandbox and every process in it. Returns `false` when no such sandbox exists.
    @discardableResult
    func kill(id: String) async throws(SandboxError) -> Bool

    /// Whether this backend can pause a sandbox (``Sandbox/pause()``) and resume it later with
    /// its files and processes as they were (``resumePaused(id:lifetime:)``).
    var supportsPause: Bool { get }

    /// Resumes a paused sandbox (a running one is just attached to) and sets it to expire
    /// `lifetime` seconds from now. Throws ``SandboxError/sandboxNotFound(_:)`` when it is gone.
    func resumePaused(id: String, lifetime: Int) async throws(SandboxError) -> any Sandbox
}

extension SandboxProvider {
    /// Backends cannot pause unless they say so.
    public var supportsPause: Bool { false }

    /// Without pause support, resuming is attaching.
    public func resumePaused(id: String, lifetime: Int) async throws(SandboxError) -> any Sandbox {
        let sandbox = try await connect(id: id)
        try await sandbox.setLifetime(seconds: lifetime)
        return sandbox
    }

    /// ``list(metadata:)`` with no problems: for backends whose listing is all or nothing.
    public func listing(metadata: [String: String]) async throws(SandboxError) -> SandboxListing {
        SandboxListing(sandboxes: try await list(metadata: metadata))
    }
}

/// What to start a sandbox from.
public struct SandboxSpec: Sendable {
    /// Template (image) name. The local backend ignores it.
    public var template: String
    /// Seconds until the sandbox is killed unless its lifetime is extended.
    public var lifetime: Int
    /// Environment variables given to every process of the sandbox.
    public var environment: [String: String]
    /// Metadata tags, used to find the sandbox again (`ca.task_id`, `ca.version`).
    public var metadata: [String: String]
    /// What the sandbox may reach (the local backend; cloud sandboxes have their own network).
    public var network: SandboxNetwork

    public init(template: String = "base", lifetime: Int = 3600, environment: [String: String] = [:], metadata: [String: String] = [:],
                network: SandboxNetwork = .offline) {
        self.template = template
        self.lifetime = lifetime
        self.environment = environment
        self.metadata = metadata
        self.network = network
    }
}

/// A live sandbox as listed by its backend.
public struct SandboxInfo: Sendable, Hashable, Codable {
    public var id: String
    public var template: String
    public var metadata: [String: String]
    public var startedAt: Date
    public var expiresAt: Date?
    /// `running` or `paused`.
    public var state: String

    public init(id: String, template: String, metadata: [String: String], startedAt: Date, expiresAt: Date?, state: String = "running") {
        self.id = id
        self.template = template
        self.metadata = metadata
        self.startedAt = startedAt
        self.expiresAt = expiresAt
        self.state = state
    }
}

/// One sandbox: runs processes and reads and writes files inside it.
public protocol Sandbox: Sendable {
    /// The backend's id of this sandbox.
    var id: String { get }
    /// Home of the sandbox user and default working directory (`/home/user`).
    var homeDirectory: String { get }

    /// Starts a process. Output arrives on the handle's ``CommandHandle/events`` as it is produced.
    func start(_ command: CommandSpec) async throws(SandboxError) -> CommandHandle

    /// Reads a whole file of at most `maximumSize` bytes, checked on this side (the size is
    /// never taken from inside the sandbox): a larger file throws ``SandboxError/limitReached(_:)``
    /// without being read.
    func readFile(_ path: String, maximumSize: Int) async throws(SandboxError) -> Data
    /// Writes a whole file, creating its parent folders and replacing any existing file.
    func writeFile(_ path: String, contents: Data) async throws(SandboxError)
    /// Lists a folder to the given depth (1 = its direct entries).
    func listDirectory(_ path: String, depth: Int) async throws(SandboxError) -> [FileEntry]
    /// Returns the entry at a path, or `nil` when nothing is there.
    func stat(_ path: String) async throws(SandboxError) -> FileEntry?
    /// Creates a folder and its parents. Returns `false` when it already existed.
    @discardableResult
    func makeDirectory(_ path: String) async throws(SandboxError) -> Bool
    /// Removes a file or a folder with its contents.
    func remove(_ path: String) async throws(SandboxError)

    /// How processes inside reach ca's network gateway, or `nil` when the backend gives them
    /// the network directly (cloud backends) or none at all (an offline local sandbox).
    var networkGateway: SandboxGatewayEndpoints? { get }

    /// Sets the sandbox to expire `seconds` from now (extends or shortens its lifetime).
    func setLifetime(seconds: Int) async throws(SandboxError)
    /// Kills the sandbox and every process in it. Killing a dead sandbox is not an error.
    func kill() async throws(SandboxError)
    /// Pauses the sandbox: its processes are frozen and its files kept until it is resumed
    /// (``SandboxProvider/resumePaused(id:lifetime:)``) or killed. Only where
    /// ``SandboxProvider/supportsPause``; elsewhere it throws ``SandboxError/invalidArgument(_:)``.
    func pause() async throws(SandboxError)
}

extension Sandbox {
    public var networkGateway: SandboxGatewayEndpoints? { nil }

    /// Backends without pause support refuse.
    public func pause() async throws(SandboxError) {
        throw SandboxError.invalidArgument("this backend cannot pause sandboxes")
    }

    /// Reads a whole file, whatever its size. Prefer ``readFile(_:maximumSize:)`` for anything
    /// the sandbox could have made large.
    public func readFile(_ path: String) async throws(SandboxError) -> Data {
        try await readFile(path, maximumSize: .max)
    }

    /// Runs a command to completion and collects its output.
    public func run(_ command: CommandSpec) async throws(SandboxError) -> CommandResult {
        let handle = try await start(command)
        return try await handle.collect()
    }

    /// Runs a shell script (`/bin/bash -c`) to completion and collects its output.
    public func run(script: String, cwd: String? = nil, environment: [String: String] = [:]) async throws(SandboxError) -> CommandResult {
        try await run(CommandSpec(shell: script, cwd: cwd, environment: environment))
    }
}

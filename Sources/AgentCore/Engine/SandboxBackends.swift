import Foundation
import SandboxClient
import Synchronization

/// Knows the sandbox backends, picks the default one, and builds providers.
///
/// The backend is `--sandbox`, else `$CA_SANDBOX`, else `novita` when `NOVITA_API_KEY` is set,
/// else `local` (with a one-line notice).
public struct SandboxBackends: Sendable {

    private let paths: CAPaths
    private let environment: [String: String]
    private let makeProvider: (@Sendable (SandboxKind) throws(TaskError) -> any SandboxProvider)?
    /// The process's HTTP client, shared by every provider (see ``shutdown()``).
    public let httpClient: SharedHTTPClient
    private let cache = ProviderCache()

    /// Standard backends configured from the environment.
    public init(paths: CAPaths, environment: [String: String], httpClient: SharedHTTPClient = SharedHTTPClient()) {
        self.paths = paths
        self.environment = environment
        self.makeProvider = nil
        self.httpClient = httpClient
    }

    /// Backends whose providers come from a closure (a test seam).
    public init(paths: CAPaths, environment: [String: String], makeProvider: @escaping @Sendable (SandboxKind) throws(TaskError) -> any SandboxProvider) {
        self.paths = paths
        self.environment = environment
        self.makeProvider = makeProvider
        self.httpClient = SharedHTTPClient()
    }

    /// Closes the shared HTTP client. Providers handed out before stop working.
    public func shutdown() async {
        await httpClient.shutdown()
    }

    /// Template for backends that use one (`$CA_TEMPLATE`, default `cloud-agent-v1`, see `template/`).
    public var defaultTemplate: String { environment["CA_TEMPLATE"].flatMap { $0.isEmpty ? nil : $0 } ?? "cloud-agent-v1" }

    /// Whether the user chose a backend (request or `CA_SANDBOX`), as opposed to ca picking one.
    private func explicitChoice(_ requested: SandboxKind?) throws(TaskError) -> SandboxKind? {
        if let requested { return requested }
        guard let configured = environment["CA_SANDBOX"], !configured.isEmpty else { return nil }
        guard let kind = SandboxKind(name: configured) else {
            throw TaskError.invalidArgument("unknown sandbox backend '\(configured)' in CA_SANDBOX; use one of: \(SandboxKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return kind
    }

    /// Backends whose credentials are configured (local always is).
    public var configured: [SandboxKind] {
        var kinds: [SandboxKind] = [.local]
        if environment["NOVITA_API_KEY"].map({ !$0.isEmpty }) == true { kinds.append(.novita) }
        if environment["E2B_API_KEY"].map({ !$0.isEmpty }) == true { kinds.append(.e2b) }
        return kinds
    }

    /// The backend to use for a request.
    public func resolveBackend(_ requested: SandboxKind?) throws(TaskError) -> SandboxKind {
        try explicitChoice(requested) ?? (configured.contains(.novita) ? .novita : .local)
    }

    /// A one-line notice when a task runs on a backend nobody chose explicitly.
    public func defaultNotice(for task: TaskRecord) -> String? {
        guard task.parentID == nil, (try? explicitChoice(nil)) == nil, task.sandboxBackend == .local, !configured.contains(.novita) else { return nil }
        return "no sandbox backend chosen and NOVITA_API_KEY is not set: using the local backend (choose one with the sandbox option or CA_SANDBOX)"
    }

    /// Whether the user explicitly turned off the local backend's isolation (`CA_LOCAL_UNSAFE_NO_ISOLATION=1`).
    public var localIsolationDisabled: Bool { environment["CA_LOCAL_UNSAFE_NO_ISOLATION"] == "1" }

    /// The provider for a backend name.
    /// - Parameter readOnlyPaths: host paths a local sandbox sees read-only (`--ro-path`).
    ///
    /// Providers are long-lived: the same one is returned for the same backend (and read-only
    /// paths), so that sandboxes it started stay known to it, and every one shares the process's
    /// HTTP client.
    public func provider(named name: SandboxKind, readOnlyPaths: [String] = []) throws(TaskError) -> any SandboxProvider {
        if let makeProvider { return try makeProvider(name) }
        let key = ([name.rawValue] + readOnlyPaths).joined(separator: "\u{0}")
        if let cached = cache.provider(for: key) { return cached }
        let provider = try makeStandardProvider(named: name, readOnlyPaths: readOnlyPaths)
        return cache.store(provider, for: key)
    }

    private func makeStandardProvider(named name: SandboxKind, readOnlyPaths: [String]) throws(TaskError) -> any SandboxProvider {
        switch name {
        case .local:
            let isolation: LocalSandboxProvider.Isolation = localIsolationDisabled ? .none : .bubblewrap
            var hidden = [paths.home.path]
            if let home = environment["HOME"], home.hasPrefix("/"), home != "/" { hidden.append(home) }
            var exposed = readOnlyPaths
            if let agent = try? agentExecutable(for: .local) { exposed.append(agent) }
            var user = LocalSandboxUser.automatic
            if let configured = environment["CA_SANDBOX_USER"], !configured.isEmpty {
                guard let parsed = LocalSandboxUser.parse(configured) else {
                    throw TaskError.invalidArgument("CA_SANDBOX_USER must be a user name or uid[:gid] other than root, not '\(configured)'")
                }
                user = geteuid() == 0 ? parsed : nil
            }
            return LocalSandboxProvider(root: paths.sandboxes.path, isolation: isolation, hiddenPaths: hidden, exposedPaths: exposed,
                                        helperExecutable: helperExecutable, sandboxUser: user, httpClient: httpClient)
        case .novita, .e2b:
            do {
                return try NovitaSandboxProvider.fromEnvironment(environment, flavour: name == .e2b ? .e2b : .novita,
                                                                 transport: httpClient.novitaTransport())
            } catch {
                throw TaskError.sandbox(error)
            }
        }
    }

    /// The program serving the network bridge inside local sandboxes: `$CA_HELPER_BIN`, which
    /// the `ca` executable sets to itself.
    public var helperExecutable: String? {
        environment["CA_HELPER_BIN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The Claude Code binary as seen inside a backend's sandboxes.
    ///
    /// Local sandboxes see this machine's files, so the binary is `$CA_CLAUDE_BIN` or `claude`
    /// on `PATH`, resolved to an absolute path. Cloud sandboxes run `claude` from the template's
    /// `PATH` (`$CA_REMOTE_CLAUDE_BIN` overrides it).
    public func agentExecutable(for backend: SandboxKind) throws(TaskError) -> String {
        guard backend == .local else { return environment["CA_REMOTE_CLAUDE_BIN"] ?? "claude" }
        if let configured = environment["CA_CLAUDE_BIN"], !configured.isEmpty {
            let path = configured.hasPrefix("/") ? configured : FileManager.default.currentDirectoryPath + "/" + configured
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw TaskError.missingAgent("CA_CLAUDE_BIN=\(configured) is not an executable file")
            }
            return (path as NSString).resolvingSymlinksInPath
        }
        guard let found = HostCommand.which("claude", path: environment["PATH"]) else {
            throw TaskError.missingAgent("Claude Code not found: put `claude` on PATH or set CA_CLAUDE_BIN (scripts/fetch-claude.sh fetches it)")
        }
        return (found as NSString).resolvingSymlinksInPath
    }
}

/// The providers a ``SandboxBackends`` built, kept for the life of the process.
final class ProviderCache: Sendable {
    private let providers = Mutex<[String: any SandboxProvider]>([:])

    func provider(for key: String) -> (any SandboxProvider)? {
        providers.withLock { $0[key] }
    }

    /// Stores `provider` unless another one won the race; returns the one kept.
    func store(_ provider: any SandboxProvider, for key: String) -> any SandboxProvider {
        providers.withLock { providers in
            if let existing = providers[key] { return existing }
            providers[key] = provider
            return provider
        }
    }
}

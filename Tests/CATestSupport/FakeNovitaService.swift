import Foundation
import Synchronization

/// A local stand-in for the Novita (or E2B) sandbox service: REST control plane and envd on one
/// loopback port, following the wire reference (`shared/reference/novita-sandbox-protocol.md`).
///
/// Point a client at it with ``environment(flavour:)`` (`NOVITA_API_URL` and `NOVITA_SANDBOX_URL` both
/// `http://127.0.0.1:<port>`). Sandboxes have real lifetimes; processes are real local processes, run
/// under `bwrap` (when available) with a per-sandbox folder bound at `/home/user` and another at `/tmp`.
///
/// ```swift
/// let fake = FakeNovitaService()
/// try await fake.start()
/// let provider = try NovitaSandboxProvider.fromEnvironment(fake.environment())
/// …
/// try await fake.stop()
/// ```
///
/// Because all sandboxes share one envd URL, envd requests are routed by the `Novita-Sandbox-Id`
/// header (sent for sandboxes created by the client process) or else by `X-Access-Token`, which is
/// unique per sandbox. Known limits: processes run as the host user (root here), not `user`; absolute
/// paths outside `/home/user` and `/tmp` are private to the file RPCs; with `bwrap` missing, processes
/// run directly with `HOME` and the cwd mapped to the sandbox folder, so a command that names
/// `/home/user` literally is not redirected; signed file URLs are not checked.
public final class FakeNovitaService: Sendable {
    /// Settings of the fake.
    public struct Options: Sendable {
        /// The only API key accepted in `X-API-KEY`.
        public var apiKey: String
        /// envd version reported for new sandboxes.
        public var envdVersion: String
        /// Interval of keepalive events on process streams; `nil` honours `Keepalive-Ping-Interval`.
        public var keepaliveInterval: Duration?
        /// Split every stream envelope across three HTTP chunks.
        public var splitsEnvelopes: Bool
        /// Run processes under `/usr/bin/bwrap` when it works on this machine.
        public var useBubblewrap: Bool
        /// Echo the credentials received in 401 messages (to test that clients redact them).
        public var echoesCredentialsInErrors: Bool
        /// Refuse creating more than this many live sandboxes (429).
        public var maximumSandboxes: Int?
        /// Page size of `GET /v2/sandboxes` when the request has no `limit` (the service's is 100).
        public var defaultListLimit: Int
        /// Programs every sandbox has on its `PATH`, as a template would install them: name → host path
        /// (for example `["claude": <pinned binary>]`). They appear in `/home/.template/bin`.
        public var templateTools: [String: String]

        public init(
            apiKey: String = "fake-novita-key-" + UUID().uuidString.prefix(8).lowercased(),
            envdVersion: String = "0.5.7",
            keepaliveInterval: Duration? = nil,
            splitsEnvelopes: Bool = true,
            useBubblewrap: Bool = true,
            echoesCredentialsInErrors: Bool = false,
            maximumSandboxes: Int? = nil,
            defaultListLimit: Int = 100,
            templateTools: [String: String] = [:]
        ) {
            self.apiKey = apiKey
            self.envdVersion = envdVersion
            self.keepaliveInterval = keepaliveInterval
            self.splitsEnvelopes = splitsEnvelopes
            self.useBubblewrap = useBubblewrap
            self.echoesCredentialsInErrors = echoesCredentialsInErrors
            self.maximumSandboxes = maximumSandboxes
            self.defaultListLimit = defaultListLimit
            self.templateTools = templateTools
        }
    }

    private let backend: FakeNovitaBackend
    private let server: LoopbackHTTPServer
    private let reaper = Mutex<Task<Void, Never>?>(nil)

    public init(options: Options = Options()) {
        let backend = FakeNovitaBackend(options: options)
        self.backend = backend
        self.server = LoopbackHTTPServer { request, writer in
            await backend.handle(request, writer)
        }
    }

    /// The API key the fake accepts.
    public var apiKey: String { backend.options.apiKey }

    /// Whether processes run under `bwrap` (so `/home/user` is real inside them).
    public var usesBubblewrap: Bool { backend.bubblewrap != nil }

    /// Starts serving on an ephemeral loopback port, with a reaper that expires sandboxes.
    public func start() async throws {
        try FileManager.default.createDirectory(at: backend.workFolder, withIntermediateDirectories: true)
        try await server.start()
        let backend = self.backend
        let task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                backend.reap()
            }
        }
        reaper.withLock { $0 = task }
    }

    /// Stops serving, kills every process and deletes the sandbox folders.
    public func stop() async throws {
        let task = reaper.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
        backend.destroyAll()
        try await server.stop()
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: URL { server.baseURL }

    /// Environment variables that point a client (ours or the official SDK) at the fake.
    public func environment(flavour: String = "novita") -> [String: String] {
        let prefix = flavour.lowercased() == "e2b" ? "E2B" : "NOVITA"
        return [
            "\(prefix)_API_KEY": apiKey,
            "\(prefix)_API_URL": baseURL.absoluteString,
            "\(prefix)_SANDBOX_URL": baseURL.absoluteString,
        ]
    }

    // MARK: - Inspection

    /// Number of sandboxes that are running or paused (expired ones are reaped first).
    public var liveSandboxCount: Int {
        backend.reap()
        return backend.state.withLock { $0.sandboxes.count }
    }

    /// Every request received so far, in order.
    public var requests: [FakeNovitaRequestRecord] {
        backend.state.withLock { $0.log }
    }

    /// The requests to one path.
    public func requests(path: String) -> [FakeNovitaRequestRecord] {
        requests.filter { $0.path == path }
    }

    /// How many process streams (Start and Connect) have attached to a process.
    public var processAttachCount: Int {
        backend.state.withLock { $0.processAttachCount }
    }

    /// Host folder mapped to `/home/user` in a live sandbox.
    public func homeFolder(sandboxID: String) -> URL? {
        backend.state.withLock { $0.sandboxes[sandboxID]?.root.appendingPathComponent("home/user") }
    }

    /// When a live sandbox expires.
    public func expiry(sandboxID: String) -> Date? {
        backend.state.withLock { $0.sandboxes[sandboxID]?.expiresAt }
    }

    /// Whether a live sandbox is paused; `nil` when it is gone (killed or expired) or never existed.
    public func isPaused(sandboxID: String) -> Bool? {
        backend.state.withLock { $0.sandboxes[sandboxID]?.paused }
    }

    /// Commands started in any sandbox (`process.Process/Start` bodies), as text.
    public var startedCommands: [String] {
        requests(path: "/process.Process/Start").map { String(decoding: $0.body, as: UTF8.self) }
    }

    /// Metadata of a live sandbox.
    public func metadata(sandboxID: String) -> [String: String]? {
        backend.state.withLock { $0.sandboxes[sandboxID]?.metadata }
    }

    // MARK: - Faults

    /// Makes the next `times` requests to `path` (optionally only with `method`) fail with `fault`.
    public func injectFault(_ fault: FakeNovitaFault, path: String, method: String? = nil, times: Int = 1) {
        backend.state.withLock { $0.faults.append(.init(path: path, method: method, remaining: times, fault: fault)) }
    }

    /// Makes the next `times` requests whose path ends with `suffix` (for any sandbox, such as
    /// `/pause`) fail with `fault`.
    public func injectFault(_ fault: FakeNovitaFault, pathSuffix suffix: String, method: String? = nil, times: Int = 1) {
        backend.state.withLock { $0.faults.append(.init(path: suffix, suffix: true, method: method, remaining: times, fault: fault)) }
    }

    /// Drops the connection of the next `times` process streams (Start or Connect) after `afterEvents`
    /// messages (the `start` event counts), forcing the client to re-attach.
    public func cutProcessStreams(afterEvents: Int, times: Int = 1) {
        backend.state.withLock { $0.streamCuts.append((afterEvents: max(1, afterEvents), remaining: times)) }
    }

    /// Ends a sandbox's life now, as if its timeout had passed.
    public func expire(sandboxID: String) {
        backend.state.withLock { $0.sandboxes[sandboxID]?.expiresAt = Date(timeIntervalSince1970: 0) }
        backend.reap()
    }
}

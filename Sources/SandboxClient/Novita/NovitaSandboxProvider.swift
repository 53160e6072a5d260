import Foundation

/// The Novita Agent Sandbox (or E2B) backend.
///
/// ```swift
/// let provider = try NovitaSandboxProvider.fromEnvironment(ProcessInfo.processInfo.environment)
/// let sandbox = try await provider.create(SandboxSpec(lifetime: 3600, metadata: ["ca.task_id": id]))
/// let result = try await sandbox.run(script: "echo hello")
/// try await sandbox.kill()
/// await provider.shutdown()
/// ```
///
/// REST calls follow reference §3; safe ones are repeated per the ``NovitaRetryPolicy``.
public struct NovitaSandboxProvider: SandboxProvider {
    /// The configuration in use.
    public let configuration: NovitaConfiguration
    /// Consecutive failed re-attach attempts tolerated when a process stream breaks.
    public let maximumReattachAttempts: Int
    /// Whether new sandboxes may reach the internet (`allow_internet_access`).
    public let allowInternetAccess: Bool

    private let transport: any NovitaHTTPTransport
    private let api: NovitaAPIClient

    /// `novita` or `e2b`.
    public var name: String { configuration.flavour.rawValue }

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - configuration: Keys and URLs.
    ///   - transport: Sends the HTTP requests; by default an ``AsyncHTTPClientTransport`` that this
    ///     provider owns (call ``shutdown()`` when done).
    ///   - retryPolicy: When to repeat safe requests and how long to wait.
    ///   - maximumReattachAttempts: Re-attach attempts when a process stream breaks.
    ///   - allowInternetAccess: Whether new sandboxes may reach the internet.
    public init(
        configuration: NovitaConfiguration,
        transport: (any NovitaHTTPTransport)? = nil,
        retryPolicy: NovitaRetryPolicy = .standard,
        maximumReattachAttempts: Int = 3,
        allowInternetAccess: Bool = true
    ) {
        let transport = transport ?? AsyncHTTPClientTransport()
        self.configuration = configuration
        self.transport = transport
        self.maximumReattachAttempts = maximumReattachAttempts
        self.allowInternetAccess = allowInternetAccess
        self.api = NovitaAPIClient(
            configuration: configuration,
            executor: NovitaRequestExecutor(transport: transport, retry: retryPolicy, secrets: [configuration.apiKey])
        )
    }

    /// A provider configured from environment variables (see ``NovitaConfiguration/fromEnvironment(_:flavour:)``).
    ///
    /// - Throws: ``SandboxError/configuration(_:)`` when `NOVITA_API_KEY` (or `E2B_API_KEY`) is missing.
    /// - Parameter transport: sends the requests; by default one this provider owns.
    public static func fromEnvironment(
        _ environment: [String: String],
        flavour: NovitaConfiguration.Flavour = .novita,
        retryPolicy: NovitaRetryPolicy = .standard,
        transport: (any NovitaHTTPTransport)? = nil
    ) throws(SandboxError) -> NovitaSandboxProvider {
        NovitaSandboxProvider(configuration: try .fromEnvironment(environment, flavour: flavour), transport: transport, retryPolicy: retryPolicy)
    }

    /// Closes the HTTP connections. Sandboxes of this provider stop working.
    public func shutdown() async {
        await transport.shutdown()
    }

    // MARK: - SandboxProvider

    /// `POST /sandboxes` with `secure: true`, `autoPause: false`, the spec's lifetime, metadata and environment.
    public func create(_ spec: SandboxSpec) async throws(SandboxError) -> any Sandbox {
        try await createSandbox(spec)
    }

    /// ``create(_:)`` with the concrete type.
    public func createSandbox(_ spec: SandboxSpec) async throws(SandboxError) -> NovitaSandbox {
        let body = NovitaAPIModels.NewSandbox(
            templateID: spec.template,
            timeout: max(0, spec.lifetime),
            autoPause: false,
            secure: true,
            allowInternetAccess: allowInternetAccess,
            metadata: spec.metadata,
            envVars: spec.environment
        )
        let created = try await api.create(body)
        return try makeSandbox(created, createdHere: true)
    }

    /// Attaches to a sandbox: `GET /sandboxes/{id}` supplies its `envdAccessToken` and `domain`.
    /// A paused sandbox is resumed with `POST /sandboxes/{id}/connect` (lifetime 300 s).
    public func connect(id: String) async throws(SandboxError) -> any Sandbox {
        try await connectSandbox(id: id)
    }

    /// Novita and E2B pause sandboxes (`POST /sandboxes/{id}/pause`) and resume them on connect.
    public var supportsPause: Bool { true }

    /// `POST /sandboxes/{id}/connect` (``resume(id:lifetime:)``): a paused sandbox is resumed (201),
    /// a running one attached to; either way it expires `lifetime` seconds from now at the earliest.
    public func resumePaused(id: String, lifetime: Int) async throws(SandboxError) -> any Sandbox {
        try await resume(id: id, lifetime: lifetime)
    }

    /// ``connect(id:)`` with the concrete type.
    public func connectSandbox(id: String) async throws(SandboxError) -> NovitaSandbox {
        let detail = try await api.detail(id: id)
        if detail.state == "paused" {
            return try await resume(id: id, lifetime: 300)
        }
        return try makeSandbox(detail, createdHere: false)
    }

    /// `POST /sandboxes/{id}/connect`: resumes a paused sandbox, or extends a running one's life to at
    /// least `lifetime` seconds, and attaches to it.
    public func resume(id: String, lifetime: Int) async throws(SandboxError) -> NovitaSandbox {
        let connected = try await api.connect(id: id, timeout: lifetime)
        return try makeSandbox(connected, createdHere: false)
    }

    /// Every running or paused sandbox whose metadata contains all of `metadata`, following pagination.
    public func list(metadata: [String: String]) async throws(SandboxError) -> [SandboxInfo] {
        var result: [SandboxInfo] = []
        var token: String?
        var seenTokens: Set<String> = []
        repeat {
            let page = try await listPage(metadata: metadata, states: ["running", "paused"], limit: nil, nextToken: token)
            result += page.sandboxes
            token = page.nextToken
            if let token, !seenTokens.insert(token).inserted { break }
        } while token != nil
        return result
    }

    /// One page of `GET /v2/sandboxes`.
    ///
    /// - Parameters:
    ///   - metadata: Pairs every listed sandbox must have.
    ///   - states: `running`, `paused`, or both; empty for the service default.
    ///   - limit: Page size (1…100); `nil` for the service default.
    ///   - nextToken: The ``NovitaSandboxPage/nextToken`` of the previous page.
    public func listPage(metadata: [String: String] = [:], states: [String] = [], limit: Int? = nil, nextToken: String? = nil) async throws(SandboxError) -> NovitaSandboxPage {
        let (sandboxes, next) = try await api.listPage(metadata: metadata, states: states, limit: limit, nextToken: nextToken)
        return NovitaSandboxPage(sandboxes: sandboxes.map(\.info), nextToken: next)
    }

    /// `DELETE /sandboxes/{id}`; `false` when no such sandbox exists.
    @discardableResult
    public func kill(id: String) async throws(SandboxError) -> Bool {
        try await api.delete(id: id)
    }

    /// `POST /sandboxes/{id}/timeout`: the sandbox expires `seconds` from now.
    public func setLifetime(id: String, seconds: Int) async throws(SandboxError) {
        try await api.setTimeout(id: id, seconds: seconds)
    }

    /// `POST /sandboxes/{id}/pause`; pausing a paused sandbox is not an error.
    public func pause(id: String) async throws(SandboxError) {
        try await api.pause(id: id)
    }

    private func makeSandbox(_ described: NovitaAPIModels.Sandbox, createdHere: Bool) throws(SandboxError) -> NovitaSandbox {
        try NovitaSandbox(
            id: described.sandboxID,
            envdVersion: described.envdVersion,
            domain: described.domain,
            accessToken: described.envdAccessToken,
            createdByThisProcess: createdHere,
            api: api,
            maximumReattachAttempts: maximumReattachAttempts
        )
    }
}

extension NovitaSandboxProvider: CustomStringConvertible, CustomReflectable {
    /// Names the backend and its URLs; never the API key.
    public var description: String { "NovitaSandboxProvider(\(configuration))" }

    /// A mirror without credentials, so `dump` cannot print them.
    public var customMirror: Mirror {
        Mirror(self, children: ["configuration": configuration, "maximumReattachAttempts": maximumReattachAttempts], displayStyle: .struct)
    }
}

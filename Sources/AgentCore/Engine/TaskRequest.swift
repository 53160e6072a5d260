/// What the user asked for with `ca task create`.
public struct TaskRequest: Sendable, Hashable {
    public var prompt: String
    public var repository: String
    public var branch: String?
    /// Sandbox backend; `nil` picks the default (see ``SandboxBackends/defaultBackend(environment:)``).
    public var backend: SandboxKind?
    public var template: String?
    public var timeoutSeconds: Int
    public var maxTurns: Int?
    public var model: String?
    /// `--network`; `nil` takes `CA_NETWORK`, else ``NetworkMode/allowlist``.
    public var network: NetworkMode?
    /// `--allow-host` entries, added to `CA_ALLOW_HOSTS`.
    public var allowHosts: [String]
    /// `--ro-path` entries, added to `CA_RO_PATHS`.
    public var readOnlyPaths: [String]
    /// Who asks (the API key's name on a server; `nil` for the CLI).
    public var owner: String?
    /// `--open-pr`, or the pull request to review (``TaskService/review(_:)`` sets it).
    public var github: GitHubTaskOptions?
    /// `--notify`: post the task's end to this http(s) URL; `nil` takes `CA_NOTIFY_URL`.
    public var notifyURL: String?
    /// `--max-cost` in dollars; `nil` takes `CA_MAX_COST`, else no cap.
    public var maxCostUSD: Double?
    /// `--attempts N` (1...4): N attempts of the same prompt under one parent task (see ``TaskAttempts``).
    public var attempts: Int
    /// `--keep-alive` in seconds (0: off); `nil` takes `CA_KEEP_ALIVE` (see ``KeepAlive``).
    public var keepAliveSeconds: Int?

    public init(prompt: String, repository: String, branch: String? = nil, backend: SandboxKind? = nil, template: String? = nil,
                timeoutSeconds: Int = 3600, maxTurns: Int? = nil, model: String? = nil,
                network: NetworkMode? = nil, allowHosts: [String] = [], readOnlyPaths: [String] = []) {
        self.owner = nil
        self.github = nil
        self.notifyURL = nil
        self.maxCostUSD = nil
        self.attempts = 1
        self.keepAliveSeconds = nil
        self.network = network
        self.allowHosts = allowHosts
        self.readOnlyPaths = readOnlyPaths
        self.prompt = prompt
        self.repository = repository
        self.branch = branch
        self.backend = backend
        self.template = template
        self.timeoutSeconds = timeoutSeconds
        self.maxTurns = maxTurns
        self.model = model
    }
}

/// What `ca pr review` asks for.
public struct PullRequestReviewRequest: Sendable, Hashable {
    /// `OWNER/NAME`.
    public var repository: String
    public var number: Int
    /// Post the review on the pull request.
    public var post: Bool
    /// Extra instructions for the reviewer.
    public var instructions: String?
    public var backend: SandboxKind?
    public var model: String?
    public var timeoutSeconds: Int
    public var maxTurns: Int?
    /// `--network`, `--allow-host`, `--ro-path` of the review's local sandbox.
    public var network: NetworkMode?
    public var allowHosts: [String]
    public var readOnlyPaths: [String]
    /// `--notify`: post the review task's end to this URL.
    public var notifyURL: String?
    /// `--max-cost` in dollars; `nil` takes `CA_MAX_COST`.
    public var maxCostUSD: Double?

    public init(repository: String, number: Int, post: Bool, instructions: String? = nil, backend: SandboxKind? = nil, model: String? = nil,
                timeoutSeconds: Int = 3600, maxTurns: Int? = nil, network: NetworkMode? = nil, allowHosts: [String] = [],
                readOnlyPaths: [String] = [], notifyURL: String? = nil, maxCostUSD: Double? = nil) {
        self.notifyURL = notifyURL
        self.maxCostUSD = maxCostUSD
        self.network = network
        self.allowHosts = allowHosts
        self.readOnlyPaths = readOnlyPaths
        self.repository = repository
        self.number = number
        self.post = post
        self.instructions = instructions
        self.backend = backend
        self.model = model
        self.timeoutSeconds = timeoutSeconds
        self.maxTurns = maxTurns
    }
}

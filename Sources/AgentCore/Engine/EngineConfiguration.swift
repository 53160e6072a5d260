import Foundation

/// Settings of the task engine that do not change from task to task.
public struct EngineConfiguration: Sendable {
    public var paths: CAPaths
    public var credentials: AgentCredentials
    /// Environment handed to the agent besides credentials (see ``AgentInvocation/passthroughNames``).
    public var passthroughEnvironment: [String: String]
    /// Path or name of the Claude Code binary as seen inside the sandbox.
    public var agentExecutable: String
    /// Stop the agent after this long without output.
    public var idleTimeout: Int
    /// After the `result` event, give the process this long to exit before killing it.
    public var resultGrace: Double
    /// How often the runner writes its heartbeat and checks for cancellation.
    public var heartbeatInterval: Double
    /// Sandbox template (image) for backends that use one.
    public var template: String
    /// Written into every sandbox's metadata as `ca.version`.
    public var version: String
    public var extractor: WorkspaceExtractor
    /// GitHub (token, hosts, REST client) for private clones, `--open-pr`, reviews and issue
    /// links; `nil` when it is not configured validly.
    public var github: GitHubAccess?
    /// Posts task endings to their `--notify` URL; `nil` when no secret is configured.
    public var notifier: WebhookNotifier?
    /// Prices of the model calls, for the running cost against `--max-cost`.
    public var prices: PriceTable

    public init(paths: CAPaths, credentials: AgentCredentials, passthroughEnvironment: [String: String] = [:],
                agentExecutable: String, idleTimeout: Int = 600, resultGrace: Double = 10, heartbeatInterval: Double = 1,
                template: String = "base", version: String = CAVersion.current, extractor: WorkspaceExtractor = WorkspaceExtractor(),
                github: GitHubAccess? = nil, notifier: WebhookNotifier? = nil, prices: PriceTable = .builtIn) {
        self.prices = prices
        self.github = github
        self.notifier = notifier
        self.paths = paths
        self.credentials = credentials
        self.passthroughEnvironment = passthroughEnvironment
        self.agentExecutable = agentExecutable
        self.idleTimeout = idleTimeout
        self.resultGrace = resultGrace
        self.heartbeatInterval = heartbeatInterval
        self.template = template
        self.version = version
        self.extractor = extractor
    }
}

/// ca's version.
public enum CAVersion {
    public static let current = "0.1.0"
}

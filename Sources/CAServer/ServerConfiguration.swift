import AgentCore
import Foundation

/// How `ca serve` runs.
public struct ServerConfiguration: Sendable {
    /// Address to listen on (default 127.0.0.1).
    public var host: String
    /// Port (0 picks a free one, reported by ``CAServerApp/onListening``).
    public var port: Int
    /// Tasks run at once by this server; the rest wait in its queue.
    public var maxConcurrent: Int
    /// Running tasks one API key may have at once (`nil`: no limit of its own).
    public var maxRunningPerKey: Int?
    /// Whether tasks may use the local (bubblewrap) backend on the server's own machine.
    public var allowLocalBackend: Bool
    /// Whether tasks may name `file://` URLs and paths on the server's own disk.
    public var allowLocalRepositories: Bool
    /// After SIGTERM/SIGINT: how long running tasks may go on before they are stopped.
    public var shutdownGrace: Duration
    /// Largest request body.
    public var maximumBodySize: Int
    /// Largest prompt, in characters.
    public var maximumPromptLength: Int
    /// Largest uploaded repository bundle (`POST /v1/bundles`), in bytes.
    public var maximumBundleSize: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, maxConcurrent: Int = 4, maxRunningPerKey: Int? = nil,
                allowLocalBackend: Bool = false, allowLocalRepositories: Bool = false, shutdownGrace: Duration = .seconds(30),
                maximumBodySize: Int = 1 << 20, maximumPromptLength: Int = 100_000,
                maximumBundleSize: Int = RepositoryBundles.defaultMaximumSize) {
        self.maximumBundleSize = max(0, maximumBundleSize)
        self.host = host
        self.port = port
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxRunningPerKey = maxRunningPerKey
        self.allowLocalBackend = allowLocalBackend
        self.allowLocalRepositories = allowLocalRepositories
        self.shutdownGrace = shutdownGrace
        self.maximumBodySize = maximumBodySize
        self.maximumPromptLength = maximumPromptLength
    }
}

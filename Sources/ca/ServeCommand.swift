import AgentCore
import ArgumentParser
import CAServer
import Foundation

/// `ca serve`
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the task engine behind an HTTP API for a team (see openapi.yaml).",
        discussion: """
        Clients authenticate with API keys (ca keys create); CA_ADMIN_KEY in the server's \
        environment is a bootstrap admin key. The Anthropic, Novita and E2B credentials are the \
        server's own (its environment). Tasks wait in a queue that survives restarts. SIGTERM or \
        SIGINT stops intake (503), gives running tasks the grace period, then stops them.
        """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "Tasks run at once; the rest wait in the queue.")
    var maxConcurrent = 4

    @Option(help: "Running tasks one API key may have at once (default: no limit of its own).")
    var maxRunningPerKey: Int?

    @Flag(help: "Let tasks use the local (bubblewrap) backend on this machine (off by default: cloud backends only).")
    var allowLocalBackend = false

    @Flag(name: .customLong("allow-local-repos"), help: "Let tasks name file:// URLs and paths on this machine.")
    var allowLocalRepositories = false

    @Option(help: "After SIGTERM/SIGINT, how long running tasks may go on (90s, 5m; 0 stops them at once).")
    var shutdownGrace = "30s"

    /// `--shutdown-grace` in seconds (0 allowed, unlike other durations).
    var graceSeconds: Int? {
        let text = shutdownGrace.trimmingCharacters(in: .whitespaces).lowercased()
        return ["0", "0s", "0m"].contains(text) ? 0 : DurationFormat.parse(text)
    }

    @Option(name: .customLong("max-bundle-mib"), help: "Largest repository bundle a client may upload, in MiB.")
    var maxBundleMiB = RepositoryBundles.defaultMaximumSize >> 20

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1") }
        if let maxRunningPerKey, maxRunningPerKey < 1 { throw ValidationError("--max-running-per-key must be at least 1") }
        guard (1...16_384).contains(maxBundleMiB) else { throw ValidationError("--max-bundle-mib must be 1 to 16384") }
        guard graceSeconds != nil else { throw ValidationError("invalid --shutdown-grace '\(shutdownGrace)'") }
    }

    func run() async throws {
        let console = Console(json: false)
        let configuration = ServerConfiguration(
            host: host, port: port, maxConcurrent: maxConcurrent, maxRunningPerKey: maxRunningPerKey,
            allowLocalBackend: allowLocalBackend, allowLocalRepositories: allowLocalRepositories,
            shutdownGrace: .seconds(graceSeconds ?? 30), maximumBundleSize: maxBundleMiB << 20)
        let host = self.host
        do {
            try await CAServerApp.run(configuration: configuration, environment: CommandContext.environment) { port in
                console.notice("serving on http://\(host):\(port)")
            }
        } catch {
            throw console.fail(TaskError.step("ca serve stopped: \(error)"))
        }
    }
}

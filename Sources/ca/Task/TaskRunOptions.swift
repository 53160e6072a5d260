import AgentCore
import ArgumentParser

/// Options shared by `create` and `resume`.
struct TaskRunOptions: ParsableArguments {
    @Option(help: "Stop the task after this long: 90s, 15m, 2h (default 1h).")
    var timeout: String?

    @Option(help: "Stop the agent after this many turns.")
    var maxTurns: Int?

    @Option(help: "Model name or alias passed to Claude Code (sonnet, haiku, …).")
    var model: String?

    @Flag(help: "Print the task id and run it in a background ca process.")
    var detach = false

    @Option(help: "Network of a local sandbox: none (the agent API only), allowlist (also the repository's host and --allow-host), open (default: $CA_NETWORK, else allowlist).")
    var network: NetworkMode?

    @Option(name: .customLong("allow-host"), help: ArgumentHelp("Let a local sandbox reach HOST[:PORT] (repeatable; @registries adds common package registries).", valueName: "host"))
    var allowHosts: [String] = []

    @Option(name: .customLong("ro-path"), help: ArgumentHelp("Show a host path read-only inside a local sandbox, such as a toolchain outside /usr (repeatable).", valueName: "path"))
    var readOnlyPaths: [String] = []

    @Option(help: ArgumentHelp("Post the task's end to this http(s) URL, signed with $CA_WEBHOOK_SECRET and retried (default: $CA_NOTIFY_URL).", valueName: "url"))
    var notify: String?

    @Option(help: ArgumentHelp("Run N attempts of the prompt at once, each in its own sandbox, under one task that succeeds when one of them does (1 to 4, default 1).", valueName: "n"))
    var attempts: Int = 1

    @Option(help: ArgumentHelp("Stop the task once its model calls cost this many dollars, e.g. 2 or 0.50 (default: $CA_MAX_COST, else no cap).", valueName: "usd"))
    var maxCost: String?

    @Option(help: ArgumentHelp("On novita/e2b, pause the sandbox at the task's end instead of killing it, for this long (at most 24h; 0 turns it off): `ca task resume` within the window continues in it at once (default: $CA_KEEP_ALIVE; a resume keeps its parent's).", valueName: "duration"))
    var keepAlive: String?

    /// `--keep-alive` in seconds (0: off).
    func keepAliveSeconds() throws -> Int? {
        guard let keepAlive else { return nil }
        if keepAlive.trimmingCharacters(in: .whitespaces) == "0" { return 0 }
        guard let seconds = DurationFormat.parse(keepAlive), seconds <= KeepAlive.maximumSeconds else {
            throw ValidationError("invalid --keep-alive '\(keepAlive)'; use a duration such as 10m or 2h, at most 24h (0 turns it off)")
        }
        return seconds
    }

    /// `--max-cost` in dollars.
    func maxCostUSD() throws -> Double? {
        try maxCost.map(Self.costCap)
    }

    /// A `--max-cost` amount, checked (also `ca keys create --max-cost`).
    static func costCap(_ text: String) throws -> Double {
        guard let value = TaskService.parseDollars(text), value > 0, value <= TaskService.maximumCostCap else {
            throw ValidationError("invalid --max-cost '\(text)'; use an amount in dollars such as 2 or 0.50, more than 0 and at most \(Int(TaskService.maximumCostCap))")
        }
        return value
    }

    func timeoutSeconds() throws -> Int? {
        guard let timeout else { return nil }
        guard let seconds = DurationFormat.parse(timeout) else {
            throw ValidationError("invalid --timeout '\(timeout)'; use a duration such as 90s, 15m or 2h, at most 365d")
        }
        return seconds
    }

    func validate() throws {
        _ = try timeoutSeconds()
        _ = try maxCostUSD()
        _ = try keepAliveSeconds()
        if let maxTurns, maxTurns <= 0 { throw ValidationError("--max-turns must be a positive number") }
        if !TaskAttempts.allowed.contains(attempts) {
            throw ValidationError("--attempts must be from \(TaskAttempts.allowed.lowerBound) to \(TaskAttempts.allowed.upperBound), not \(attempts)")
        }
    }
}

extension NetworkMode: ExpressibleByArgument {}

extension SandboxKind: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(name: argument)
    }
}

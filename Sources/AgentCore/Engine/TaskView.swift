import Foundation

/// A task as clients see it: the one JSON shape of `ca … --json` and of the server's API.
///
/// Every field is always present (`null` when unknown), with the stable snake_case names the
/// README documents; dates are encoded by the encoder's strategy (ISO 8601 in both places).
public struct TaskView: Sendable, Hashable, Codable {
    public var id: String
    public var status: TaskStatus
    public var prompt: String
    public var repositoryURL: String
    public var branch: String?
    public var baseCommit: String?
    public var parentID: String?
    public var sandbox: SandboxKind
    public var sandboxID: String?
    public var sessionID: String?
    public var model: String?
    public var maxTurns: Int?
    public var timeoutSeconds: Int
    public var costUSD: Double?
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var numTurns: Int?
    public var result: String?
    public var error: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The network policy of the task's local sandbox.
    public var network: NetworkMode
    /// Where the task's files are on this machine (the CLI's view; `nil` over the API).
    public var filesDirectory: String?
    /// The pull request the task opened or updated (`--open-pr`).
    public var pullRequestURL: String?
    public var pullRequestNumber: Int?
    /// The review a `ca pr review --post` task posted.
    public var reviewURL: String?
    /// `--max-cost`, in dollars.
    public var maxCostUSD: Double?
    /// Why the task did not succeed, as a stable code.
    public var failureReason: TaskFailureReason?
    /// A best-of-N parent's attempts (`--attempts N`), where the caller looked them up (one
    /// task's view, not lists); `nil` (and left out) otherwise.
    public var attempts: [TaskAttemptView]?
    /// An attempt's parent task and number; `nil` (and left out) for other tasks.
    public var attemptOf: String?
    public var attempt: Int?
    /// `--keep-alive`, in seconds.
    public var keepAliveSeconds: Int?
    /// The paused sandbox the task keeps for a resume, and until when (see ``KeepAlive``).
    public var pausedSandboxID: String?
    public var pausedUntil: Date?

    enum CodingKeys: String, CodingKey {
        case id, status, prompt
        case repositoryURL = "repository_url"
        case branch
        case baseCommit = "base_commit"
        case parentID = "parent_id"
        case sandbox
        case sandboxID = "sandbox_id"
        case sessionID = "session_id"
        case model
        case maxTurns = "max_turns"
        case timeoutSeconds = "timeout_seconds"
        case costUSD = "cost_usd"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case numTurns = "num_turns"
        case result, error
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case network
        case filesDirectory = "files_dir"
        case pullRequestURL = "pull_request_url"
        case pullRequestNumber = "pull_request_number"
        case reviewURL = "review_url"
        case maxCostUSD = "max_cost_usd"
        case failureReason = "failure_reason"
        case attempts
        case attemptOf = "attempt_of"
        case attempt
        case keepAliveSeconds = "keep_alive_seconds"
        case pausedSandboxID = "paused_sandbox_id"
        case pausedUntil = "paused_until"
    }

    public init(_ t: TaskRecord, filesDirectory: String? = nil, attempts: [TaskAttemptView]? = nil) {
        id = t.id; status = t.status; prompt = t.prompt; repositoryURL = t.repositoryURL
        branch = t.branch; baseCommit = t.baseCommit; parentID = t.parentID; sandbox = t.sandboxBackend
        sandboxID = t.sandboxID; sessionID = t.sessionID; model = t.model; maxTurns = t.maxTurns
        timeoutSeconds = t.timeoutSeconds; costUSD = t.costUSD; inputTokens = t.inputTokens
        outputTokens = t.outputTokens; numTurns = t.numTurns; result = t.result; error = t.error
        createdAt = t.createdAt; startedAt = t.startedAt; finishedAt = t.finishedAt
        network = (t.sandboxPolicy ?? SandboxPolicy()).network
        self.filesDirectory = filesDirectory
        pullRequestURL = t.pullRequestURL; pullRequestNumber = t.pullRequestNumber; reviewURL = t.reviewURL
        maxCostUSD = t.maxCostUSD; failureReason = t.failureReason
        self.attempts = attempts
        attemptOf = t.attemptOf; attempt = t.attempt
        keepAliveSeconds = t.keepAliveSeconds; pausedSandboxID = t.pausedSandboxID; pausedUntil = t.pausedUntil
    }

    /// Optional fields are encoded as `null` rather than left out, so the shape is stable
    /// (`files_dir` only where there is one; `attempts`, `attempt_of` and `attempt` only on the
    /// tasks of a best-of-N run).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(status, forKey: .status); try c.encode(prompt, forKey: .prompt)
        try c.encode(repositoryURL, forKey: .repositoryURL); try c.encode(branch, forKey: .branch)
        try c.encode(baseCommit, forKey: .baseCommit); try c.encode(parentID, forKey: .parentID)
        try c.encode(sandbox, forKey: .sandbox); try c.encode(sandboxID, forKey: .sandboxID)
        try c.encode(sessionID, forKey: .sessionID); try c.encode(model, forKey: .model)
        try c.encode(maxTurns, forKey: .maxTurns); try c.encode(timeoutSeconds, forKey: .timeoutSeconds)
        try c.encode(costUSD, forKey: .costUSD); try c.encode(inputTokens, forKey: .inputTokens)
        try c.encode(outputTokens, forKey: .outputTokens); try c.encode(numTurns, forKey: .numTurns)
        try c.encode(result, forKey: .result); try c.encode(error, forKey: .error)
        try c.encode(createdAt, forKey: .createdAt); try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt); try c.encode(network, forKey: .network)
        try c.encode(pullRequestURL, forKey: .pullRequestURL); try c.encode(pullRequestNumber, forKey: .pullRequestNumber)
        try c.encode(reviewURL, forKey: .reviewURL)
        try c.encode(maxCostUSD, forKey: .maxCostUSD); try c.encode(failureReason, forKey: .failureReason)
        try c.encode(keepAliveSeconds, forKey: .keepAliveSeconds); try c.encode(pausedSandboxID, forKey: .pausedSandboxID)
        try c.encode(pausedUntil, forKey: .pausedUntil)
        if let filesDirectory { try c.encode(filesDirectory, forKey: .filesDirectory) }
        try c.encodeIfPresent(attempts, forKey: .attempts)
        try c.encodeIfPresent(attemptOf, forKey: .attemptOf); try c.encodeIfPresent(attempt, forKey: .attempt)
    }
}

import Foundation

/// What `ca task …` asks of tasks, wherever they live: ``TaskService`` for this machine's
/// store, or a client of a `ca serve` (the `CAClient` target). Commands are written once
/// against this protocol; errors are ``TaskError`` either way.
public protocol TaskClient: Sendable {
    /// Records a task (`queued`). Running it is up to the caller locally, the server remotely.
    func create(_ request: TaskRequest) async throws(TaskError) -> TaskRecord
    /// Records a task that reviews a GitHub pull request (`ca pr review`).
    func review(_ request: PullRequestReviewRequest) async throws(TaskError) -> TaskRecord
    /// Records a child task that continues a finished one.
    func resume(_ parentIDOrPrefix: String, _ request: TaskResumeRequest) async throws(TaskError) -> TaskRecord
    /// A task by id or unique id prefix.
    func resolve(_ idOrPrefix: String) async throws(TaskError) -> TaskRecord
    /// Tasks, newest first.
    func list(status: TaskStatus?, limit: Int) async throws(TaskError) -> [TaskRecord]
    /// The stored events of a task after sequence `after` (one page; empty at the end).
    func events(_ taskID: String, after: Int) async throws(TaskError) -> [EventRecord]
    /// Every event after `after` as it is stored, each once and in order, then the task when it ended.
    func followEvents(_ taskID: String, after: Int) -> AsyncThrowingStream<TaskFollowItem, any Error>
    /// Waits until the task ends or `timeout` seconds pass; returns the latest record.
    func wait(_ idOrPrefix: String, timeout: Double?) async throws(TaskError) -> TaskRecord
    /// Asks a task to stop; returns the record right after the request.
    func cancel(_ idOrPrefix: String) async throws(TaskError) -> TaskRecord
    /// Files saved (or skipped) for a task.
    func artifacts(_ taskID: String) async throws(TaskError) -> [ArtifactRecord]
    /// The saved patch of a task, byte for byte.
    func patch(_ taskID: String) async throws(TaskError) -> Data
    /// The attempts of a best-of-N parent task, by number (empty for an ordinary task).
    func attempts(_ taskID: String) async throws(TaskError) -> [TaskAttemptView]
}

/// What `ca task resume` takes besides the parent and the prompt; what is not given is the parent's.
public struct TaskResumeRequest: Sendable, Hashable {
    public var prompt: String
    public var timeoutSeconds: Int?
    public var maxTurns: Int?
    public var model: String?
    public var backend: SandboxKind?
    public var network: NetworkMode?
    public var allowHosts: [String]
    public var readOnlyPaths: [String]
    /// `--open-pr`: push onto the chain's pull request branch (or open one).
    public var openPullRequest: GitHubTaskOptions.OpenPullRequest?
    /// `--notify`: post the task's end to this URL; `nil` takes `CA_NOTIFY_URL`.
    public var notifyURL: String?
    /// `--max-cost` in dollars; `nil` takes `CA_MAX_COST`, else no cap (a cap is not inherited).
    public var maxCostUSD: Double?
    /// `--attempts N`: N attempts of the resumed task under one new parent; 1 for one task.
    public var attempts: Int
    /// `--keep-alive` in seconds (0: off); `nil` keeps the parent's (see ``KeepAlive``).
    public var keepAliveSeconds: Int?

    public init(prompt: String, timeoutSeconds: Int? = nil, maxTurns: Int? = nil, model: String? = nil, backend: SandboxKind? = nil,
                network: NetworkMode? = nil, allowHosts: [String] = [], readOnlyPaths: [String] = [],
                openPullRequest: GitHubTaskOptions.OpenPullRequest? = nil, notifyURL: String? = nil, maxCostUSD: Double? = nil,
                attempts: Int = 1, keepAliveSeconds: Int? = nil) {
        self.attempts = attempts
        self.maxCostUSD = maxCostUSD
        self.keepAliveSeconds = keepAliveSeconds
        self.openPullRequest = openPullRequest
        self.notifyURL = notifyURL
        self.prompt = prompt
        self.timeoutSeconds = timeoutSeconds
        self.maxTurns = maxTurns
        self.model = model
        self.backend = backend
        self.network = network
        self.allowHosts = allowHosts
        self.readOnlyPaths = readOnlyPaths
    }
}

extension TaskService: TaskClient {
    public func resume(_ parentIDOrPrefix: String, _ request: TaskResumeRequest) async throws(TaskError) -> TaskRecord {
        try await resume(parentIDOrPrefix, prompt: request.prompt, timeoutSeconds: request.timeoutSeconds, maxTurns: request.maxTurns,
                         model: request.model, backend: request.backend, network: request.network, allowHosts: request.allowHosts,
                         readOnlyPaths: request.readOnlyPaths, owner: nil, queuedBy: nil, idempotency: nil,
                         openPullRequest: request.openPullRequest, notifyURL: request.notifyURL, maxCostUSD: request.maxCostUSD,
                         attempts: request.attempts, keepAliveSeconds: request.keepAliveSeconds).task
    }

    public func review(_ request: PullRequestReviewRequest) async throws(TaskError) -> TaskRecord {
        try await review(repository: request.repository, number: request.number, post: request.post, instructions: request.instructions,
                         backend: request.backend, model: request.model, timeoutSeconds: request.timeoutSeconds, maxTurns: request.maxTurns,
                         network: request.network, allowHosts: request.allowHosts, readOnlyPaths: request.readOnlyPaths,
                         notifyURL: request.notifyURL, maxCostUSD: request.maxCostUSD).task
    }

    public func followEvents(_ taskID: String, after: Int) -> AsyncThrowingStream<TaskFollowItem, any Error> {
        let follow = self.follow(taskID, after: after)
        return AsyncThrowingStream { continuation in
            let reader = Task {
                do {
                    for try await item in follow { continuation.yield(item) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in reader.cancel() }
        }
    }

    public func patch(_ taskID: String) async throws(TaskError) -> Data {
        let task = try await resolve(taskID)
        guard let data = try? Data(contentsOf: paths.taskFolder(task.id).appendingPathComponent("patch.diff")) else {
            throw TaskError.step("task \(task.id) has no saved patch (status \(task.status))")
        }
        return data
    }
}

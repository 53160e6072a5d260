import Foundation
import GRDB

/// One task as stored in the `task` table.
///
/// Column names are the stable snake_case names also used by `--json` output.
public struct TaskRecord: Sendable, Codable, Hashable, Identifiable {
    public var id: String
    public var prompt: String
    /// Repository URL or path as given by the user, with any credentials removed.
    public var repositoryURL: String
    public var branch: String?
    /// Commit the workspace started from (after `--branch`).
    public var baseCommit: String?
    /// The task this one resumes.
    public var parentID: String?
    public var status: TaskStatus
    /// Why the task failed, was cancelled or timed out.
    public var error: String?
    /// Sandbox backend name (`local`, `novita`, `e2b`).
    public var sandboxBackend: SandboxKind
    public var template: String?
    public var sandboxID: String?
    /// Claude Code session id (needed to resume).
    public var sessionID: String?
    public var model: String?
    public var maxTurns: Int?
    public var timeoutSeconds: Int
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var costUSD: Double?
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var numTurns: Int?
    /// The agent's final text.
    public var result: String?
    /// PID of the `ca` process running the task, while it runs.
    public var runnerPID: Int?
    /// Host name of the machine running the task.
    public var runnerHost: String?
    /// Last sign of life from the runner.
    public var heartbeatAt: Date?
    /// Set by `ca task cancel`; the runner stops the task when it sees it.
    public var cancelRequested: Bool
    /// Network access and read-only paths of the local sandbox (`nil` for tasks stored before
    /// it existed: they get the default policy).
    public var sandboxPolicy: SandboxPolicy?
    /// The API key (its name) that created the task on a server; `nil` for the CLI's own tasks.
    public var owner: String?
    /// The server instance whose queue holds the task while it waits (see ``ServerInstanceRecord``).
    public var queuedBy: String?
    /// Bytes of the agent's output stream stored as events so far, for agents whose stream is
    /// also recorded in their (cloud) sandbox: a runner that re-attaches after a restart reads
    /// the recording from here on (see ``AgentRecording``). `nil` when the stream is not recorded.
    public var agentOffset: Int?
    /// GitHub work asked for with the task (`--open-pr`, `ca pr review`); `nil` for none.
    public var github: GitHubTaskOptions?
    /// The pull request the task opened or updated (`--open-pr`).
    public var pullRequestURL: String?
    public var pullRequestNumber: Int?
    /// The branch the task's commits were pushed to (`ca/<id>`; a resumed task keeps its
    /// parent's, so that it updates the same pull request).
    public var pullRequestBranch: String?
    /// The review a `ca pr review --post` task posted.
    public var reviewURL: String?
    /// `--notify`: where the task's end is posted (see ``WebhookNotifier``).
    public var notifyURL: String?
    /// Deliveries tried so far, and how the last one went (`200`, `HTTP 500`, `timed out`…).
    public var notifyAttempts: Int?
    public var notifyStatus: String?
    /// `--max-cost`: the task is stopped once its running cost reaches this many dollars.
    public var maxCostUSD: Double?
    /// Why the task did not succeed, as a stable code (`budget_exceeded`, …); `nil` otherwise.
    public var failureReason: TaskFailureReason?
    /// Claude Code's `total_cost_usd` for the whole session so far (it counts a resumed session
    /// from its start); ``costUSD`` is this task's own share.
    public var sessionCostUSD: Double?
    /// `--attempts N`: on the parent of a best-of-N run, N (the parent runs no sandbox; its
    /// status, cost and tokens are derived from its attempts); `nil` for an ordinary task.
    public var attempts: Int?
    /// On an attempt of a best-of-N run: the parent task's id, and this attempt's number (1...N).
    public var attemptOf: String?
    public var attempt: Int?

    /// Whether this is the parent of a best-of-N run (see ``attempts``).
    public var isAttemptParent: Bool { attempts != nil }
    /// `--keep-alive` in seconds: at its end the task's (cloud) sandbox is paused for this long
    /// instead of killed, so that `ca task resume` can continue in it; `nil` for none.
    public var keepAliveSeconds: Int?
    /// The paused sandbox that holds this task's workspace and Claude Code state, while it is
    /// kept alive; cleared when a resume claims it or when it is killed.
    public var pausedSandboxID: String?
    /// When the paused sandbox's window ends: it is killed then (``KeepAlive``).
    public var pausedUntil: Date?

    enum CodingKeys: String, CodingKey {
        case id, prompt
        case repositoryURL = "repository_url"
        case branch
        case baseCommit = "base_commit"
        case parentID = "parent_id"
        case status, error
        case sandboxBackend = "sandbox_backend"
        case template
        case sandboxID = "sandbox_id"
        case sessionID = "session_id"
        case model
        case maxTurns = "max_turns"
        case timeoutSeconds = "timeout_seconds"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case costUSD = "cost_usd"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case numTurns = "num_turns"
        case result
        case runnerPID = "runner_pid"
        case runnerHost = "runner_host"
        case heartbeatAt = "heartbeat_at"
        case cancelRequested = "cancel_requested"
        case sandboxPolicy = "sandbox_policy"
        case owner
        case queuedBy = "queued_by"
        case agentOffset = "agent_offset"
        case github
        case pullRequestURL = "pull_request_url"
        case pullRequestNumber = "pull_request_number"
        case pullRequestBranch = "pull_request_branch"
        case reviewURL = "review_url"
        case notifyURL = "notify_url"
        case notifyAttempts = "notify_attempts"
        case notifyStatus = "notify_status"
        case maxCostUSD = "max_cost_usd"
        case failureReason = "failure_reason"
        case sessionCostUSD = "session_cost_usd"
        case attempts
        case attemptOf = "attempt_of"
        case attempt
        case keepAliveSeconds = "keep_alive_seconds"
        case pausedSandboxID = "paused_sandbox_id"
        case pausedUntil = "paused_until"
    }

    public init(
        id: String, prompt: String, repositoryURL: String, branch: String? = nil, parentID: String? = nil,
        sandboxBackend: SandboxKind, template: String? = nil, model: String? = nil, maxTurns: Int? = nil,
        timeoutSeconds: Int, createdAt: Date = Date(), sandboxPolicy: SandboxPolicy? = nil, owner: String? = nil
    ) {
        self.owner = owner
        self.queuedBy = nil
        self.agentOffset = nil
        self.github = nil
        self.pullRequestURL = nil
        self.pullRequestNumber = nil
        self.pullRequestBranch = nil
        self.reviewURL = nil
        self.notifyURL = nil
        self.notifyAttempts = nil
        self.notifyStatus = nil
        self.maxCostUSD = nil
        self.failureReason = nil
        self.sessionCostUSD = nil
        self.attempts = nil
        self.attemptOf = nil
        self.attempt = nil
        self.keepAliveSeconds = nil
        self.pausedSandboxID = nil
        self.pausedUntil = nil
        self.id = id
        self.prompt = prompt
        self.repositoryURL = repositoryURL
        self.branch = branch
        self.baseCommit = nil
        self.parentID = parentID
        self.status = .queued
        self.error = nil
        self.sandboxBackend = sandboxBackend
        self.template = template
        self.sandboxID = nil
        self.sessionID = nil
        self.model = model
        self.maxTurns = maxTurns
        self.timeoutSeconds = timeoutSeconds
        self.createdAt = createdAt
        self.cancelRequested = false
        self.sandboxPolicy = sandboxPolicy
    }
}

extension TaskRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "task"
}

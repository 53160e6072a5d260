import AgentCore
import CAAPI
import Foundation

/// The API's shapes as the engine's records (the inverse of the server's mapping).
extension RemoteTaskClient {
    static func record(_ t: Components.Schemas.Task) -> TaskRecord {
        var record = TaskRecord(
            id: t.id, prompt: t.prompt, repositoryURL: t.repositoryUrl, branch: t.branch, parentID: t.parentId,
            sandboxBackend: SandboxKind(rawValue: t.sandbox.rawValue) ?? .local, model: t.model, maxTurns: t.maxTurns,
            timeoutSeconds: t.timeoutSeconds, createdAt: t.createdAt,
            sandboxPolicy: t.network.flatMap { NetworkMode(rawValue: $0.rawValue) }.map { SandboxPolicy(network: $0) },
            owner: t.owner)
        record.status = TaskStatus(rawValue: t.status.rawValue) ?? .queued
        record.baseCommit = t.baseCommit
        record.sandboxID = t.sandboxId
        record.sessionID = t.sessionId
        record.costUSD = t.costUsd
        record.inputTokens = t.inputTokens.map { Int(clamping: $0) }
        record.outputTokens = t.outputTokens.map { Int(clamping: $0) }
        record.numTurns = t.numTurns
        record.result = t.result
        record.error = t.error
        record.startedAt = t.startedAt
        record.finishedAt = t.finishedAt
        record.pullRequestURL = t.pullRequestUrl
        record.pullRequestNumber = t.pullRequestNumber
        record.reviewURL = t.reviewUrl
        record.maxCostUSD = t.maxCostUsd
        record.failureReason = t.failureReason.flatMap { TaskFailureReason(rawValue: $0.rawValue) }
        record.attempts = t.attempts.map(\.count)
        record.attemptOf = t.attemptOf
        record.attempt = t.attempt
        record.keepAliveSeconds = t.keepAliveSeconds
        record.pausedSandboxID = t.pausedSandboxId
        record.pausedUntil = t.pausedUntil
        return record
    }

    static func attempt(_ a: Components.Schemas.TaskAttempt) -> TaskAttemptView {
        TaskAttemptView(attempt: a.attempt, id: a.id, status: TaskStatus(rawValue: a.status.rawValue) ?? .queued, costUSD: a.costUsd,
                        error: a.error, filesChanged: a.filesChanged, patchBytes: a.patchBytes)
    }

    static func schema(_ options: GitHubTaskOptions.OpenPullRequest) -> Components.Schemas.OpenPullRequest {
        Components.Schemas.OpenPullRequest(base: options.base, draft: options.draft)
    }

    static func record(_ e: Components.Schemas.Event, taskID: String) throws -> EventRecord {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = String(decoding: try encoder.encode(e.data), as: UTF8.self)
        return EventRecord(taskID: taskID, sequence: Int(clamping: e.seq), type: e._type, subtype: e.subtype, createdAt: e.createdAt,
                           payload: payload)
    }

    static func record(_ a: Components.Schemas.Artifact, taskID: String) -> ArtifactRecord {
        ArtifactRecord(taskID: taskID, kind: ArtifactRecord.Kind(rawValue: a.kind.rawValue) ?? .skipped, path: a.path, size: a.size, note: a.note)
    }

    static func schema(_ kind: SandboxKind) -> Components.Schemas.SandboxBackend {
        switch kind {
        case .local: return .local
        case .novita: return .novita
        case .e2b: return .e2b
        }
    }

    static func schema(_ mode: NetworkMode) -> Components.Schemas.NetworkMode {
        switch mode {
        case .none: return .none
        case .allowlist: return .allowlist
        case .open: return .open
        }
    }
}

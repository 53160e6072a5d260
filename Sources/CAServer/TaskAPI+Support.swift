import AgentCore
import SandboxClient
import CAAPI
import Foundation
import OpenAPIRuntime

/// Validation of requests and the mapping between the engine's types and the API's.
extension TaskAPI {
    static func principal() throws -> RequestPrincipal {
        guard let principal = RequestPrincipal.current else { throw APIProblem.unauthorized }
        return principal
    }

    /// The task with this id (or unique prefix) among the caller's; another owner's is not found.
    func visibleTask(_ id: String) async throws -> TaskRecord {
        let principal = try Self.principal()
        guard id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { throw APIProblem.notFound(String(id.prefix(64))) }
        do {
            return try await service.store.resolve(id.lowercased(), owner: principal.admin ? nil : principal.name)
        } catch {
            throw TaskError.store(error)
        }
    }

    func validatedPrompt(_ prompt: String) throws -> String {
        // Lengths count Unicode code points, as JSON Schema's maxLength does.
        guard prompt.unicodeScalars.count <= configuration.maximumPromptLength else {
            throw APIProblem(status: 400, code: "prompt_too_large", title: "Invalid request",
                             detail: "the prompt is over \(configuration.maximumPromptLength) characters")
        }
        let trimmed = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw APIProblem.invalid("the prompt must not be empty") }
        return trimmed
    }

    /// A remote URL (https, http, ssh, git, scp-like); local paths and `file://` only when allowed.
    func validatedRepository(_ url: String) throws -> String {
        let trimmed = url.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, url.unicodeScalars.count <= 2048, !trimmed.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw APIProblem.invalid("repository_url must be a URL of at most 2048 characters")
        }
        if RepositorySource.isBundle(trimmed) { return trimmed }
        // OWNER/NAME: the repository on this server's GitHub.
        if let url = try service.gitHubRepositoryURL(shorthand: trimmed) { return url }
        let lower = trimmed.lowercased()
        let remote = ["https://", "http://", "ssh://", "git://"].contains { lower.hasPrefix($0) } || RepositorySource.isSCPLike(trimmed)
        if !remote {
            guard configuration.allowLocalRepositories else {
                throw APIProblem.unprocessable("local_repository_refused",
                                               "repository_url must be a remote git URL (https or ssh); this server does not serve its own disk")
            }
        } else {
            guard !trimmed.hasPrefix("-"), URL(string: trimmed) != nil || RepositorySource.isSCPLike(trimmed) else {
                throw APIProblem.invalid("repository_url is not a valid URL")
            }
        }
        return trimmed
    }

    /// Refuses the local backend unless the server allows it.
    func checkBackend(_ requested: SandboxKind?) throws {
        let backend = (try? service.backends.resolveBackend(requested)) ?? .local
        if backend == .local && !configuration.allowLocalBackend {
            throw APIProblem.unprocessable("local_backend_disabled",
                                           "this server runs no local sandboxes (ca serve --allow-local-backend); choose sandbox novita or e2b")
        }
    }

    /// The largest event sequence number the API takes (2^53 - 1, exact in any JSON parser).
    static let maximumSequence: Int64 = 9_007_199_254_740_991

    static func bounded(_ value: String?, _ name: String, _ maximum: Int) throws -> String? {
        guard let value else { return nil }
        guard !value.isEmpty, value.unicodeScalars.count <= maximum, !value.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw APIProblem.invalid("\(name) must be one line of 1 to \(maximum) characters")
        }
        return value
    }

    static func timeout(_ seconds: Int?) throws -> Int {
        guard let seconds else { return 3600 }
        guard (1...DurationFormat.maximumSeconds).contains(seconds) else {
            throw APIProblem.invalid("timeout_seconds must be 1 to \(DurationFormat.maximumSeconds)")
        }
        return seconds
    }

    static func maxTurns(_ turns: Int?) throws -> Int? {
        guard let turns else { return nil }
        guard (1...10_000).contains(turns) else { throw APIProblem.invalid("max_turns must be 1 to 10000") }
        return turns
    }

    static func keepAlive(_ seconds: Int?) throws -> Int? {
        guard let seconds else { return nil }
        guard (0...KeepAlive.maximumSeconds).contains(seconds) else {
            throw APIProblem.invalid("keep_alive_seconds must be 0 to \(KeepAlive.maximumSeconds)")
        }
        return seconds
    }

    static func costCap(_ dollars: Double?) throws -> Double? {
        guard let dollars else { return nil }
        guard dollars.isFinite, dollars > 0, dollars <= TaskService.maximumCostCap else {
            throw APIProblem.invalid("max_cost_usd must be more than 0 and at most \(Int(TaskService.maximumCostCap))")
        }
        return dollars
    }

    static func allowHosts(_ hosts: [String]?) throws -> [String] {
        guard let hosts else { return [] }
        guard hosts.count <= 100, hosts.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.count <= 255 }) else {
            throw APIProblem.invalid("allow_hosts holds at most 100 hosts of 1 to 255 characters")
        }
        do throws(SandboxError) { _ = try HostRule.parseList(hosts) } catch { throw APIProblem.invalid("allow_hosts: \(error.description)") }
        return hosts
    }

    /// The idempotency key and the fingerprint of the request it stands for.
    static func idempotency<Body: Encodable>(_ key: String?, _ body: Body, operation: String) throws -> (key: String, fingerprint: String)? {
        guard let key else { return nil }
        guard !key.isEmpty, key.utf8.count <= 255, key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIProblem(status: 400, code: "invalid_parameter", title: "Invalid parameter",
                             detail: "Idempotency-Key must be 1 to 255 visible ASCII characters")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = Data(operation.utf8) + ((try? encoder.encode(body)) ?? Data())
        return (key, APIKeys.fingerprint(data))
    }

    /// Whether the client asked for Server-Sent Events rather than a JSON page.
    static func prefersStream(_ accept: [AcceptHeaderContentType<Operations.GetTaskLogs.AcceptableContentType>]) -> Bool {
        let stream = accept.filter { $0.contentType == .textEventStream }.map(\.quality.doubleValue).max()
        let json = accept.filter { $0.contentType == .json }.map(\.quality.doubleValue).max()
        guard let stream, stream > 0 else { return false }
        return json.map { stream > $0 } ?? true
    }

    // MARK: Cursors: "<created_at ms>.<id>", base64url

    static func encodeCursor(_ task: TaskRecord) -> String {
        let text = "\(Int64((task.createdAt.timeIntervalSince1970 * 1000).rounded(.down))).\(task.id)"
        return Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ cursor: String) throws -> (Date, String) {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard cursor.count <= 200, let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
              let dot = text.firstIndex(of: "."), let millis = Int64(text[..<dot]) else {
            throw APIProblem(status: 400, code: "invalid_parameter", title: "Invalid parameter", detail: "cursor is not one this server gave out")
        }
        // The store keeps dates to the millisecond, as the cursor does.
        return (Date(timeIntervalSince1970: Double(millis) / 1000), String(text[text.index(after: dot)...]))
    }

    // MARK: Mapping

    static func kind(_ backend: Components.Schemas.SandboxBackend) -> SandboxKind {
        switch backend {
        case .local: return .local
        case .novita: return .novita
        case .e2b: return .e2b
        }
    }

    static func mode(_ network: Components.Schemas.NetworkMode) -> NetworkMode {
        switch network {
        case .none: return .none
        case .allowlist: return .allowlist
        case .open: return .open
        }
    }

    static func status(_ status: Components.Schemas.TaskStatus) -> TaskStatus {
        TaskStatus(rawValue: status.rawValue) ?? .queued
    }

    /// The task, with its attempts when it is the parent of a best-of-N run.
    func schemaWithAttempts(_ t: TaskRecord) async throws -> Components.Schemas.Task {
        guard t.isAttemptParent else { return Self.schema(t) }
        return Self.schema(t, attempts: try await service.attempts(t.id))
    }

    static func schema(_ t: TaskRecord) -> Components.Schemas.Task {
        schema(t, attempts: nil)
    }

    static func schema(_ t: TaskRecord, attempts: [TaskAttemptView]?) -> Components.Schemas.Task {
        let view = TaskView(t, attempts: attempts)
        return Components.Schemas.Task(
            id: view.id, status: Components.Schemas.TaskStatus(rawValue: view.status.rawValue) ?? .queued, prompt: view.prompt,
            repositoryUrl: view.repositoryURL, branch: view.branch, baseCommit: view.baseCommit, parentId: view.parentID,
            sandbox: Components.Schemas.SandboxBackend(rawValue: view.sandbox.rawValue) ?? .local, sandboxId: view.sandboxID,
            sessionId: view.sessionID, model: view.model, maxTurns: view.maxTurns, timeoutSeconds: view.timeoutSeconds,
            costUsd: view.costUSD, inputTokens: view.inputTokens.map(Int64.init), outputTokens: view.outputTokens.map(Int64.init),
            numTurns: view.numTurns, result: view.result, error: view.error, createdAt: view.createdAt, startedAt: view.startedAt,
            finishedAt: view.finishedAt, owner: t.owner ?? "local",
            network: view.sandbox == .local ? Components.Schemas.Task.NetworkPayload(rawValue: view.network.rawValue) : nil,
            pullRequestUrl: view.pullRequestURL, pullRequestNumber: view.pullRequestNumber, reviewUrl: view.reviewURL,
            maxCostUsd: view.maxCostUSD, failureReason: view.failureReason.flatMap { .init(rawValue: $0.rawValue) },
            keepAliveSeconds: view.keepAliveSeconds, pausedSandboxId: view.pausedSandboxID, pausedUntil: view.pausedUntil,
            attempts: view.attempts?.map(Self.schema), attemptOf: view.attemptOf, attempt: view.attempt)
    }

    static func schema(_ a: TaskAttemptView) -> Components.Schemas.TaskAttempt {
        Components.Schemas.TaskAttempt(attempt: a.attempt, id: a.id, status: Components.Schemas.TaskStatus(rawValue: a.status.rawValue) ?? .queued,
                                       costUsd: a.costUSD, error: a.error, filesChanged: a.filesChanged, patchBytes: a.patchBytes)
    }

    static func schema(_ event: EventRecord) throws -> Components.Schemas.Event {
        let data = (try? JSONDecoder().decode(Components.Schemas.Event.DataPayload.self, from: Data(event.payload.utf8)))
            ?? Components.Schemas.Event.DataPayload()
        return Components.Schemas.Event(seq: Int64(event.sequence), createdAt: event.createdAt, _type: event.type, subtype: event.subtype, data: data)
    }

    static func schema(_ artifact: ArtifactRecord) -> Components.Schemas.Artifact {
        Components.Schemas.Artifact(kind: Components.Schemas.Artifact.KindPayload(rawValue: artifact.kind.rawValue) ?? .skipped,
                                    path: artifact.path, size: artifact.size, note: artifact.note)
    }
}

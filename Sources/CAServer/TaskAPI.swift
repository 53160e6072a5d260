import AgentCore
import CAAPI
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// The `/v1` API and the service endpoints, as the OpenAPI document (`openapi.yaml`) describes
/// them; the generated server code routes requests here. Every task handler works on the
/// caller's own tasks (all tasks for an admin key); another owner's task is simply not found.
struct TaskAPI: APIProtocol {
    let service: TaskService
    let queue: TaskQueue
    let configuration: ServerConfiguration
    let metrics: ServerMetrics

    // MARK: Tasks

    func createTask(_ input: Operations.CreateTask.Input) async throws -> Operations.CreateTask.Output {
        let principal = try Self.principal()
        guard !queue.isDraining else { throw APIProblem.shuttingDown }
        guard case .json(let body) = input.body else { throw APIProblem.invalid("send a JSON body") }
        var request = TaskRequest(
            prompt: try validatedPrompt(body.prompt), repository: try validatedRepository(body.repositoryUrl),
            branch: try Self.bounded(body.branch, "branch", 255), backend: body.sandbox.map(Self.kind),
            template: try Self.bounded(body.template, "template", 255),
            timeoutSeconds: try Self.timeout(body.timeoutSeconds), maxTurns: try Self.maxTurns(body.maxTurns),
            model: try Self.bounded(body.model, "model", 200), network: body.network.map(Self.mode),
            allowHosts: try Self.allowHosts(body.allowHosts))
        request.owner = principal.name
        request.notifyURL = try Self.bounded(body.notifyUrl, "notify_url", 2048) ?? principal.notifyURL
        request.maxCostUSD = try Self.costCap(body.maxCostUsd) ?? principal.maxCostUSD
        request.attempts = body.attempts ?? 1
        request.keepAliveSeconds = try Self.keepAlive(body.keepAliveSeconds)
        if let open = body.openPullRequest {
            request.github = GitHubTaskOptions(openPullRequest: .init(base: try Self.bounded(open.base, "open_pull_request.base", 255), draft: open.draft ?? false))
        }
        try checkBackend(request.backend)
        let idempotency = try Self.idempotency(input.headers.idempotencyKey, body, operation: "create")
        let (task, _) = try await service.create(request, queuedBy: queue.instanceID, idempotency: idempotency)
        queue.wake()
        return .accepted(.init(body: .json(try await schemaWithAttempts(task))))
    }

    func uploadBundle(_ input: Operations.UploadBundle.Input) async throws -> Operations.UploadBundle.Output {
        let principal = try Self.principal()
        guard !queue.isDraining else { throw APIProblem.shuttingDown }
        guard case .binary(let body) = input.body else { throw APIProblem.invalid("send the bundle as application/octet-stream") }
        // The body middleware has read it already, within the bundle limit.
        let data: Data
        do { data = try await Data(collecting: body, upTo: configuration.maximumBundleSize) } catch {
            throw APIProblem(status: 413, code: "payload_too_large", title: "Content Too Large",
                             detail: "the bundle is over this server's limit of \(configuration.maximumBundleSize) bytes")
        }
        guard RepositoryBundles.looksLikeBundle(data) else {
            throw APIProblem.invalid("the body is not a git bundle (make one with: git bundle create FILE --all)")
        }
        let id = try await service.bundles.store(data, owner: principal.name)
        return .created(.init(body: .json(.init(id: id, size: Int64(data.count), repositoryUrl: RepositorySource.bundleScheme + id))))
    }

    func listTasks(_ input: Operations.ListTasks.Input) async throws -> Operations.ListTasks.Output {
        let principal = try Self.principal()
        let limit = input.query.limit ?? 20
        guard (1...200).contains(limit) else { throw APIProblem(status: 400, code: "invalid_parameter", title: "Invalid parameter", detail: "limit must be 1 to 200") }
        let cursor = try input.query.cursor.map(Self.decodeCursor)
        if let parent = input.query.parent, !TaskID.isWhole(parent) {
            throw APIProblem(status: 400, code: "invalid_parameter", title: "Invalid parameter", detail: "parent must be a whole task id (13 characters)")
        }
        let tasks: [TaskRecord]
        do {
            tasks = try await service.store.list(owner: principal.admin ? nil : principal.name, status: input.query.status.map(Self.status),
                                                 parentID: input.query.parent, limit: limit, before: cursor)
        } catch { throw TaskError.store(error) }
        let next = tasks.count == limit ? tasks.last.map(Self.encodeCursor) : nil
        return .ok(.init(body: .json(.init(tasks: tasks.map(Self.schema), nextCursor: next))))
    }

    func getTask(_ input: Operations.GetTask.Input) async throws -> Operations.GetTask.Output {
        .ok(.init(body: .json(try await schemaWithAttempts(try await visibleTask(input.path.id)))))
    }

    func resumeTask(_ input: Operations.ResumeTask.Input) async throws -> Operations.ResumeTask.Output {
        let principal = try Self.principal()
        let parent = try await visibleTask(input.path.id)
        guard !queue.isDraining else { throw APIProblem.shuttingDown }
        guard parent.status.isTerminal else {
            throw APIProblem(status: 409, code: "task_not_finished", title: "Conflict", detail: "task \(parent.id) is still \(parent.status)")
        }
        guard case .json(let body) = input.body else { throw APIProblem.invalid("send a JSON body") }
        let backend = body.sandbox.map(Self.kind)
        try checkBackend(backend ?? parent.sandboxBackend)
        let idempotency = try Self.idempotency(input.headers.idempotencyKey, body, operation: "resume \(parent.id)")
        let (task, _) = try await service.resume(
            parent.id, prompt: try validatedPrompt(body.prompt), timeoutSeconds: try body.timeoutSeconds.map { try Self.timeout($0) },
            maxTurns: try Self.maxTurns(body.maxTurns), model: try Self.bounded(body.model, "model", 200), backend: backend,
            network: body.network.map(Self.mode), allowHosts: try Self.allowHosts(body.allowHosts), readOnlyPaths: [],
            owner: principal.name, queuedBy: queue.instanceID, idempotency: idempotency,
            openPullRequest: try body.openPullRequest.map { .init(base: try Self.bounded($0.base, "open_pull_request.base", 255), draft: $0.draft ?? false) },
            notifyURL: try Self.bounded(body.notifyUrl, "notify_url", 2048) ?? principal.notifyURL,
            maxCostUSD: try Self.costCap(body.maxCostUsd) ?? principal.maxCostUSD,
            attempts: body.attempts ?? 1, keepAliveSeconds: try Self.keepAlive(body.keepAliveSeconds))
        queue.wake()
        return .accepted(.init(body: .json(try await schemaWithAttempts(task))))
    }

    func createReview(_ input: Operations.CreateReview.Input) async throws -> Operations.CreateReview.Output {
        let principal = try Self.principal()
        guard !queue.isDraining else { throw APIProblem.shuttingDown }
        guard case .json(let body) = input.body else { throw APIProblem.invalid("send a JSON body") }
        let backend = body.sandbox.map(Self.kind)
        try checkBackend(backend)
        let instructions = try body.instructions.map { try validatedPrompt($0) }
        let idempotency = try Self.idempotency(input.headers.idempotencyKey, body, operation: "review")
        let (task, _) = try await service.review(
            repository: try Self.bounded(body.repository, "repository", 140) ?? "", number: body.number, post: body.post ?? false,
            instructions: instructions, backend: backend, model: try Self.bounded(body.model, "model", 200),
            timeoutSeconds: try Self.timeout(body.timeoutSeconds), maxTurns: try Self.maxTurns(body.maxTurns),
            network: body.network.map(Self.mode), allowHosts: try Self.allowHosts(body.allowHosts),
            notifyURL: try Self.bounded(body.notifyUrl, "notify_url", 2048) ?? principal.notifyURL,
            maxCostUSD: try Self.costCap(body.maxCostUsd) ?? principal.maxCostUSD,
            owner: principal.name, queuedBy: queue.instanceID, idempotency: idempotency)
        queue.wake()
        return .accepted(.init(body: .json(Self.schema(task))))
    }

    func cancelTask(_ input: Operations.CancelTask.Input) async throws -> Operations.CancelTask.Output {
        let task = try await visibleTask(input.path.id)
        let cancelled = try await service.cancel(task.id)
        queue.wake()
        return .ok(.init(body: .json(try await schemaWithAttempts(cancelled))))
    }

    // MARK: Events

    func getTaskLogs(_ input: Operations.GetTaskLogs.Input) async throws -> Operations.GetTaskLogs.Output {
        let task = try await visibleTask(input.path.id)
        let limit = input.query.limit ?? 1000
        guard (1...10_000).contains(limit) else { throw APIProblem(status: 400, code: "invalid_parameter", title: "Invalid parameter", detail: "limit must be 1 to 10000") }
        guard (0...Self.maximumSequence).contains(input.query.after ?? 0) else {
            throw APIProblem(status: 400, code: "invalid_parameter", title: "Invalid parameter", detail: "after must be 0 to \(Self.maximumSequence)")
        }
        var after = Int(input.query.after ?? 0)
        if let lastEventID = input.headers.lastEventID {
            guard (1...16).contains(lastEventID.utf8.count), lastEventID.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  let value = Int(lastEventID), value <= Int(Self.maximumSequence) else {
                throw APIProblem(status: 400, code: "invalid_parameter", title: "Invalid parameter", detail: "Last-Event-ID must be an event sequence number")
            }
            after = value
        }
        if Self.prefersStream(input.headers.accept) {
            let stream = EventStream(follow: service.follow(task.id, after: after, idleInterval: .seconds(15)))
            return .ok(.init(body: .textEventStream(HTTPBody(stream, length: .unknown, iterationBehavior: .single))))
        }
        let events: [EventRecord]
        let current: TaskRecord?
        do {
            events = try await service.store.events(taskID: task.id, after: after, limit: limit)
            current = try await service.store.task(id: task.id)
        } catch { throw TaskError.store(error) }
        let done = (current?.status.isTerminal ?? true) && events.count < limit
        return .ok(.init(body: .json(.init(events: try events.map(Self.schema), nextAfter: Int64(events.last?.sequence ?? after), done: done))))
    }

    // MARK: Files

    func getTaskPatch(_ input: Operations.GetTaskPatch.Input) async throws -> Operations.GetTaskPatch.Output {
        let task = try await visibleTask(input.path.id)
        guard task.status.isTerminal else {
            throw APIProblem(status: 409, code: "task_not_finished", title: "Conflict", detail: "task \(task.id) is still \(task.status); its patch is saved when it ends")
        }
        guard let patch = SafeFileReader(root: service.paths.taskFolder(task.id)).read("patch.diff", maximumSize: 256 << 20) else {
            throw APIProblem(status: 409, code: "no_patch", title: "Conflict", detail: "task \(task.id) has no saved patch (status \(task.status))")
        }
        return .ok(.init(body: .textXDiff(HTTPBody(patch))))
    }

    func listTaskFiles(_ input: Operations.ListTaskFiles.Input) async throws -> Operations.ListTaskFiles.Output {
        let task = try await visibleTask(input.path.id)
        let artifacts = try await service.artifacts(task.id)
        return .ok(.init(body: .json(.init(id: task.id, artifacts: artifacts.map(Self.schema)))))
    }

    func getTaskFile(_ input: Operations.GetTaskFile.Input) async throws -> Operations.GetTaskFile.Output {
        let task = try await visibleTask(input.path.id)
        let path = input.path.path
        // Only files the extraction saved, read without following any link.
        let artifacts = try await service.artifacts(task.id)
        guard artifacts.contains(where: { $0.kind == .file && $0.path == path }),
              let data = SafeFileReader(root: service.paths.taskFolder(task.id).appendingPathComponent("files")).read(path, maximumSize: 64 << 20) else {
            throw APIProblem(status: 404, code: "file_not_found", title: "Not Found", detail: "task \(task.id) saved no file at that path")
        }
        return .ok(.init(body: .binary(HTTPBody(data))))
    }

    // MARK: Service endpoints

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .plainText(HTTPBody("ok\n"))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        var checks: [String: Components.Schemas.Readiness.ChecksPayload.AdditionalPropertiesPayload] = [:]
        let storeOK = ((try? await service.writableStore().count()) ?? nil) != nil
        checks["store"] = storeOK ? .ok : .failing
        let credentials = service.agentCredentialsUsable
        checks["credentials"] = credentials ? .ok : .failing
        checks["queue"] = queue.isDraining ? .failing : .ok
        guard storeOK, credentials, !queue.isDraining else {
            let failing = checks.filter { $0.value == .failing }.keys.sorted().joined(separator: ", ")
            return .serviceUnavailable(.init(headers: .init(retryAfter: 5), body: .applicationProblemJson(
                APIProblem(status: 503, code: "not_ready", title: "Service Unavailable", detail: "failing: \(failing)").body)))
        }
        return .ok(.init(body: .json(.init(status: .ok, checks: .init(additionalProperties: checks)))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        let counts = (try? await service.store.countsByStatus()) ?? [:]
        let depth = (try? await service.store.queueDepth(instance: queue.instanceID)) ?? 0
        let text = metrics.render(tasksByStatus: counts, queueDepth: depth, running: queue.runningCount)
        return .ok(.init(body: .textPlainVersion_0_0_4(HTTPBody(text))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(OpenAPIDocument.yaml))))
    }
}

import AgentCore
import AsyncHTTPClient
import CAAPI
import Foundation
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// ``TaskClient`` over the HTTP API of a `ca serve` (`openapi.yaml`), with the client generated
/// from the document. The key comes from the caller (the CLI reads `CA_TOKEN`; never argv).
///
/// Following a task reads its Server-Sent Events and, when the connection drops, reconnects
/// with `Last-Event-ID`, so that every event arrives once and in order.
public final class RemoteTaskClient: TaskClient {
    /// The server's base URL (`http://host:port`).
    public let serverURL: URL
    private let httpClient: HTTPClient
    private let client: Client
    private let streamingClient: Client
    /// How often a dropped event stream is reopened before giving up.
    let maximumReconnects: Int

    /// - Parameters:
    ///   - serverURL: `http(s)://host[:port]`.
    ///   - token: the API key (`Authorization: Bearer`).
    ///   - maximumReconnects: how often a dropped event stream is reopened before giving up.
    ///
    /// The client owns its HTTP connections: call ``shutdown()`` when done. It fails at once when
    /// the server refuses the connection (after 10 s when it does not answer), never follows
    /// redirects (the key must not travel to another host) and does not decompress bodies.
    public init(serverURL: URL, token: String?, maximumReconnects: Int = 20) {
        self.serverURL = serverURL
        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: nil),
            connectionPool: .init(idleTimeout: .seconds(30)),
            decompression: .disabled)
        http.connectionPool.retryConnectionEstablishment = false
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        self.httpClient = httpClient
        self.maximumReconnects = maximumReconnects
        let configuration = Configuration(dateTranscoder: .iso8601WithFractionalSeconds)
        let middleware = RemoteProblemMiddleware(token: token)
        client = Client(serverURL: serverURL, configuration: configuration,
                        transport: AsyncHTTPClientTransport(configuration: .init(client: httpClient, timeout: .seconds(120))),
                        middlewares: [middleware])
        // An event stream stays open as long as the task runs.
        streamingClient = Client(serverURL: serverURL, configuration: configuration,
                                 transport: AsyncHTTPClientTransport(configuration: .init(client: httpClient, timeout: .hours(24 * 366))),
                                 middlewares: [middleware])
    }

    /// Closes the client's connections; call once, when the command is done.
    public func shutdown() async {
        try? await httpClient.shutdown()
    }

    /// Checks a `--server` / `CA_SERVER` value: an absolute http(s) URL without credentials.
    public static func serverURL(_ text: String) throws(TaskError) -> URL {
        guard let url = URL(string: text.trimmingCharacters(in: .whitespaces)), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host != nil else {
            throw TaskError.invalidArgument("the server must be an http(s) URL such as http://127.0.0.1:8080, not '\(text.prefix(200))'")
        }
        guard url.user == nil, url.password == nil else {
            throw TaskError.invalidArgument("put the API key in CA_TOKEN, not in the server URL")
        }
        return url
    }

    // MARK: Calls

    /// Runs one call, turning problems and transport failures into ``TaskError``.
    func call<T>(id: String? = nil, resuming: Bool = false, _ body: () async throws -> T) async throws(TaskError) -> T {
        do {
            return try await body()
        } catch let error as TaskError {
            throw error
        } catch {
            throw translate(error, id: id, resuming: resuming)
        }
    }

    func translate(_ error: any Error, id: String?, resuming: Bool = false) -> TaskError {
        var underlying: any Error = error
        if let clientError = error as? ClientError { underlying = clientError.underlyingError }
        if let problem = underlying as? RemoteProblem { return problem.taskError(id: id, resuming: resuming) }
        if let taskError = underlying as? TaskError { return taskError }
        return .serverUnreachable("cannot reach the server at \(serverURL.absoluteString): \(Self.describe(underlying))")
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return String(describing: error) }
        if error is DecodingError { return "its answer is not the ca API" }
        return String(describing: error).prefix(300).description
    }

    static func unexpected(_ status: Int) -> TaskError {
        .server(status: status, code: "unexpected_response", message: "the server answered with an undocumented status \(status)")
    }

    /// Packs the repository at `path` (on this machine) into a git bundle, uploads it, and
    /// returns the `bundle:` URL for the task.
    func uploadBundle(of path: String) async throws(TaskError) -> String {
        let source = try RepositorySource(path)
        guard case .local(let folder) = source.location else { return path }
        let bundle = try await LocalRepositoryBundle.create(from: folder, displayURL: source.displayURL)
        return try await call {
            switch try await client.uploadBundle(body: .binary(HTTPBody(bundle))) {
            case .created(let created): return try created.body.json.repositoryUrl
            case .undocumented(let status, _): throw Self.unexpected(status)
            default: throw Self.unexpected(0)
            }
        }
    }

    public func create(_ request: TaskRequest) async throws(TaskError) -> TaskRecord {
        guard request.readOnlyPaths.isEmpty else {
            throw TaskError.invalidArgument("--ro-path names paths on this machine; a server cannot use them")
        }
        // A path names this machine's disk, which the server cannot see: the repository goes up
        // as a git bundle. A file:// URL names the server's own disk (it takes those only with
        // --allow-local-repos).
        var repository = request.repository
        // OWNER/NAME without such a folder here: the server's GitHub expands it.
        let shorthand = GitHubAccess.isShorthand(repository) && !FileManager.default.fileExists(atPath: repository)
        let local = !RepositorySource.isRemote(repository) && !RepositorySource.isBundle(repository)
            && !repository.lowercased().hasPrefix("file://") && !shorthand
        if local { repository = try await uploadBundle(of: repository) }
        let body = Components.Schemas.CreateTaskRequest(
            prompt: request.prompt, repositoryUrl: repository, branch: request.branch, timeoutSeconds: request.timeoutSeconds,
            maxTurns: request.maxTurns, model: request.model, sandbox: request.backend.map(Self.schema), template: request.template,
            network: request.network.map(Self.schema), allowHosts: request.allowHosts.isEmpty ? nil : request.allowHosts,
            openPullRequest: request.github?.openPullRequest.map(Self.schema), notifyUrl: request.notifyURL, maxCostUsd: request.maxCostUSD,
            attempts: request.attempts == 1 ? nil : request.attempts, keepAliveSeconds: request.keepAliveSeconds)
        // Repeating the request after a dropped connection must not make a second task.
        let key = "ca-cli-" + UUID().uuidString.lowercased()
        return try await call {
            for attempt in 0..<3 {
                do {
                    switch try await client.createTask(headers: .init(idempotencyKey: key), body: .json(body)) {
                    case .accepted(let accepted): return Self.record(try accepted.body.json)
                    case .undocumented(let status, _): throw Self.unexpected(status)
                    default: throw Self.unexpected(0)
                    }
                } catch let error as ClientError where !(error.underlyingError is RemoteProblem) && attempt < 2 {
                    try await Task.sleep(for: .milliseconds(500 << attempt))
                }
            }
            throw TaskError.serverUnreachable("cannot reach the server at \(serverURL.absoluteString)")
        }
    }

    public func resume(_ parentIDOrPrefix: String, _ request: TaskResumeRequest) async throws(TaskError) -> TaskRecord {
        guard request.readOnlyPaths.isEmpty else {
            throw TaskError.invalidArgument("--ro-path names paths on this machine; a server cannot use them")
        }
        let body = Components.Schemas.ResumeTaskRequest(
            prompt: request.prompt, timeoutSeconds: request.timeoutSeconds, maxTurns: request.maxTurns, model: request.model,
            sandbox: request.backend.map(Self.schema), network: request.network.map(Self.schema),
            allowHosts: request.allowHosts.isEmpty ? nil : request.allowHosts,
            openPullRequest: request.openPullRequest.map(Self.schema), notifyUrl: request.notifyURL, maxCostUsd: request.maxCostUSD,
            attempts: request.attempts == 1 ? nil : request.attempts, keepAliveSeconds: request.keepAliveSeconds)
        let key = "ca-cli-" + UUID().uuidString.lowercased()
        return try await call(id: parentIDOrPrefix, resuming: true) {
            switch try await client.resumeTask(path: .init(id: parentIDOrPrefix), headers: .init(idempotencyKey: key), body: .json(body)) {
            case .accepted(let accepted): return Self.record(try accepted.body.json)
            case .undocumented(let status, _): throw Self.unexpected(status)
            default: throw Self.unexpected(0)
            }
        }
    }

    public func review(_ request: PullRequestReviewRequest) async throws(TaskError) -> TaskRecord {
        guard request.readOnlyPaths.isEmpty else {
            throw TaskError.invalidArgument("--ro-path names paths on this machine; a server cannot use them")
        }
        let body = Components.Schemas.CreateReviewRequest(
            repository: request.repository, number: request.number, post: request.post, instructions: request.instructions,
            timeoutSeconds: request.timeoutSeconds, maxTurns: request.maxTurns, model: request.model, sandbox: request.backend.map(Self.schema),
            network: request.network.map(Self.schema), allowHosts: request.allowHosts.isEmpty ? nil : request.allowHosts,
            notifyUrl: request.notifyURL, maxCostUsd: request.maxCostUSD)
        let key = "ca-cli-" + UUID().uuidString.lowercased()
        return try await call {
            switch try await client.createReview(headers: .init(idempotencyKey: key), body: .json(body)) {
            case .accepted(let accepted): return Self.record(try accepted.body.json)
            case .undocumented(let status, _): throw Self.unexpected(status)
            default: throw Self.unexpected(0)
            }
        }
    }

    public func resolve(_ idOrPrefix: String) async throws(TaskError) -> TaskRecord {
        try await resolveWithAttempts(idOrPrefix).task
    }

    /// A task, with its attempts when it is the parent of a best-of-N run (empty otherwise).
    func resolveWithAttempts(_ idOrPrefix: String) async throws(TaskError) -> (task: TaskRecord, attempts: [TaskAttemptView]) {
        try await call(id: idOrPrefix) {
            switch try await client.getTask(path: .init(id: idOrPrefix)) {
            case .ok(let ok):
                let task = try ok.body.json
                return (Self.record(task), (task.attempts ?? []).map(Self.attempt))
            case .undocumented(let status, _): throw Self.unexpected(status)
            default: throw Self.unexpected(0)
            }
        }
    }

    public func list(status: TaskStatus?, limit: Int) async throws(TaskError) -> [TaskRecord] {
        var tasks: [TaskRecord] = []
        var cursor: String?
        repeat {
            let page = try await call {
                switch try await client.listTasks(query: .init(status: status.flatMap { Components.Schemas.TaskStatus(rawValue: $0.rawValue) },
                                                               limit: min(200, limit - tasks.count), cursor: cursor)) {
                case .ok(let ok): return try ok.body.json
                case .undocumented(let status, _): throw Self.unexpected(status)
                default: throw Self.unexpected(0)
                }
            }
            tasks += page.tasks.map(Self.record)
            cursor = page.nextCursor
        } while cursor != nil && tasks.count < limit
        return tasks
    }

    public func events(_ taskID: String, after: Int) async throws(TaskError) -> [EventRecord] {
        try await call(id: taskID) {
            switch try await client.getTaskLogs(path: .init(id: taskID), query: .init(after: Int64(after), limit: 1000),
                                                headers: .init(accept: [.init(contentType: .json)])) {
            case .ok(let ok): return try ok.body.json.events.map { try Self.record($0, taskID: taskID) }
            case .undocumented(let status, _): throw Self.unexpected(status)
            default: throw Self.unexpected(0)
            }
        }
    }

    public func wait(_ idOrPrefix: String, timeout: Double?) async throws(TaskError) -> TaskRecord {
        let task = try await resolve(idOrPrefix)
        if task.status.isTerminal { return task }
        // Only the end matters: follow from past the last possible event.
        let ended: TaskRecord? = await withTaskGroup(of: TaskRecord?.self) { group in
            group.addTask {
                do {
                    for try await item in self.followEvents(task.id, after: Self.beyondEveryEvent) {
                        if case .finished(let record) = item { return record }
                    }
                } catch {}
                return nil
            }
            if let timeout {
                group.addTask { try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000))); return nil }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let ended { return ended }
        return try await resolve(task.id)
    }

    /// The largest sequence number the API takes: following after it yields only the end.
    static let beyondEveryEvent = 9_007_199_254_740_991

    public func cancel(_ idOrPrefix: String) async throws(TaskError) -> TaskRecord {
        try await call(id: idOrPrefix) {
            switch try await client.cancelTask(path: .init(id: idOrPrefix)) {
            case .ok(let ok): return Self.record(try ok.body.json)
            case .undocumented(let status, _): throw Self.unexpected(status)
            default: throw Self.unexpected(0)
            }
        }
    }

    public func artifacts(_ taskID: String) async throws(TaskError) -> [ArtifactRecord] {
        try await call(id: taskID) {
            switch try await client.listTaskFiles(path: .init(id: taskID)) {
            case .ok(let ok): return try ok.body.json.artifacts.map { Self.record($0, taskID: taskID) }
            case .undocumented(let status, _): throw Self.unexpected(status)
            default: throw Self.unexpected(0)
            }
        }
    }

    public func patch(_ taskID: String) async throws(TaskError) -> Data {
        try await call(id: taskID) {
            switch try await client.getTaskPatch(path: .init(id: taskID)) {
            case .ok(let ok): return try await Data(collecting: try ok.body.textXDiff, upTo: 256 << 20)
            case .undocumented(let status, _): throw Self.unexpected(status)
            default: throw Self.unexpected(0)
            }
        }
    }

    /// The attempts of a best-of-N task, from the task as the server shows it.
    public func attempts(_ taskID: String) async throws(TaskError) -> [TaskAttemptView] {
        try await resolveWithAttempts(taskID).attempts
    }

    /// One saved file of a task, byte for byte (at most 64 MiB, the server's own limit).
    public func file(_ taskID: String, path: String) async throws(TaskError) -> Data {
        try await call(id: taskID) {
            switch try await client.getTaskFile(path: .init(id: taskID, path: path)) {
            case .ok(let ok): return try await Data(collecting: try ok.body.binary, upTo: 64 << 20)
            case .undocumented(let status, _): throw Self.unexpected(status)
            default: throw Self.unexpected(0)
            }
        }
    }

    // MARK: Following

    public func followEvents(_ taskID: String, after: Int) -> AsyncThrowingStream<TaskFollowItem, any Error> {
        AsyncThrowingStream { continuation in
            let reader = Task {
                do {
                    try await self.readEvents(taskID, after: after) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in reader.cancel() }
        }
    }

    /// Reads the task's event stream until its end event, reconnecting with `Last-Event-ID`
    /// after a drop. An event at or before one already delivered is skipped.
    func readEvents(_ taskID: String, after: Int, deliver: (TaskFollowItem) -> Void) async throws {
        var last = after
        var failures = 0
        while true {
            try Task.checkCancellation()
            do {
                let output = try await streamingClient.getTaskLogs(
                    path: .init(id: taskID), query: .init(after: Int64(last)),
                    headers: .init(lastEventID: last > 0 ? String(last) : nil, accept: [.init(contentType: .textEventStream)]))
                guard case .ok(let ok) = output else {
                    if case .undocumented(let status, _) = output { throw Self.unexpected(status) }
                    throw Self.unexpected(0)
                }
                for try await message in try ok.body.textEventStream.asDecodedServerSentEvents() {
                    guard let data = message.data else { continue }
                    switch message.event {
                    case "end":
                        deliver(.finished(Self.record(try Self.decoder.decode(Components.Schemas.Task.self, from: Data(data.utf8)))))
                        return
                    default:
                        let event = try Self.record(try Self.decoder.decode(Components.Schemas.Event.self, from: Data(data.utf8)), taskID: taskID)
                        guard event.sequence > last else { continue }
                        last = event.sequence
                        failures = 0
                        deliver(.event(event))
                    }
                }
                // The stream closed without its end event: the connection dropped.
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let translated = translate(error, id: taskID)
                // A problem is the server's answer, not a dropped connection.
                if case .serverUnreachable = translated {} else { throw translated }
            }
            failures += 1
            guard failures <= maximumReconnects else {
                throw TaskError.serverUnreachable("lost the event stream of task \(taskID) from \(serverURL.absoluteString)")
            }
            try await Task.sleep(for: .milliseconds(min(5_000, 200 * (1 << min(failures, 5)))))
        }
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) { return date }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date"))
        }
        return decoder
    }()
}

extension Data {
    /// Collects a body of at most `limit` bytes.
    init(collecting body: HTTPBody, upTo limit: Int) async throws {
        self.init()
        for try await chunk in body {
            guard count + chunk.count <= limit else {
                throw TaskError.server(status: 200, code: "too_large", message: "the server sent more than \(limit >> 20) MiB")
            }
            append(contentsOf: chunk)
        }
    }
}

import Foundation
import GitHubClient
import SandboxClient
import Synchronization

/// The task engine's front door, used by the CLI (and later the server).
///
/// It opens the store, recovers tasks whose runner died, validates and records new tasks,
/// and builds a ``TaskRunner`` for them.
public final class TaskService: Sendable {
    public let store: TaskStore
    public let paths: CAPaths
    public let backends: SandboxBackends
    /// Wakes followers of tasks run by this process (see ``follow(_:after:)``).
    public let hub = TaskEventHub()
    private let environment: [String: String]

    /// A writable store, opened on demand when ``store`` was opened read-only.
    private let writable = Mutex<TaskStore?>(nil)

    /// Opens the store under the paths resolved from `environment`.
    /// - Parameter access: ``TaskStore/Access/readOnly`` for commands that only read (list,
    ///   get, logs…): they then write nothing, unless crash recovery finds a task to close.
    public init(environment: [String: String], backends: SandboxBackends? = nil, access: TaskStore.Access = .readWrite) throws(TaskError) {
        self.environment = environment
        paths = CAPaths.resolve(environment: environment)
        do { store = try TaskStore(path: paths.database.path, access: access) } catch { throw TaskError.store(error) }
        self.backends = backends ?? SandboxBackends(paths: paths, environment: environment)
    }

    /// The store for writing: ``store`` itself, or the same database opened for writing.
    public func writableStore() throws(TaskError) -> TaskStore {
        if store.isWritable { return store }
        if let opened = writable.withLock({ $0 }) { return opened }
        let opened: TaskStore
        do { opened = try TaskStore(path: paths.database.path) } catch { throw TaskError.store(error) }
        return writable.withLock { current in
            if let current { return current }
            current = opened
            return opened
        }
    }

    /// Releases what the service holds for the process (the shared HTTP client). Call it once,
    /// when the process (or the server) is done with the service.
    public func shutdown() async {
        await backends.shutdown()
    }

    /// Whether the environment holds Anthropic credentials (tasks need them).
    public var agentCredentialsUsable: Bool { AgentCredentials.fromEnvironment(environment).isUsable }

    // MARK: Creating tasks

    /// Validates a request and stores it as a queued task. Nothing runs yet.
    public func create(_ request: TaskRequest) async throws(TaskError) -> TaskRecord {
        try await create(request, queuedBy: nil, idempotency: nil).task
    }

    /// Validates a request and stores it as a queued task, for a server's queue (`queuedBy`).
    /// With an idempotency key, a repeat of the same request returns the first task
    /// (`reused`), and the same key with another request is a ``TaskError/conflict(_:)``.
    public func create(_ request: TaskRequest, queuedBy: String?, idempotency: (key: String, fingerprint: String)?) async throws(TaskError)
        -> (task: TaskRecord, reused: Bool) {
        if let idempotency, let earlier = try await earlierTask(owner: request.owner, idempotency: idempotency) { return (earlier, true) }
        let prompt = request.prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !prompt.isEmpty else { throw TaskError.invalidArgument("the prompt must not be empty") }
        guard request.timeoutSeconds > 0, request.timeoutSeconds <= DurationFormat.maximumSeconds else {
            throw TaskError.invalidArgument("the timeout must be positive and at most 365 days")
        }
        if let maxTurns = request.maxTurns, maxTurns <= 0 { throw TaskError.invalidArgument("the maximum number of turns must be positive") }
        let source = try RepositorySource(try expandRepository(request.repository))
        try checkGitHubWork(request.github, source: source)
        if case .bundle(let id) = source.location, !bundles.exists(id: id, owner: request.owner) {
            throw TaskError.repositoryUnreachable(source.displayURL, "no bundle with this id was uploaded with this key")
        }
        let backend = try backends.resolveBackend(request.backend)
        try preflight(backend: backend)
        let policy = try SandboxPolicy.resolve(network: request.network, allowHosts: request.allowHosts,
                                               readOnlyPaths: request.readOnlyPaths, environment: environment)
        var task = TaskRecord(
            id: TaskID.make(), prompt: prompt, repositoryURL: source.location.storedForm(display: source.displayURL),
            branch: request.branch, sandboxBackend: backend,
            template: request.template ?? (backend == .local ? nil : backends.defaultTemplate), model: request.model,
            maxTurns: request.maxTurns, timeoutSeconds: request.timeoutSeconds, sandboxPolicy: policy, owner: request.owner)
        task.queuedBy = queuedBy
        task.github = request.github
        task.notifyURL = try notifyURL(request.notifyURL)
        task.maxCostUSD = try maxCost(request.maxCostUSD)
        task.keepAliveSeconds = try keepAlive(request.keepAliveSeconds, backend: backend)
        return try await insert(task, attempts: request.attempts, idempotency: idempotency)
    }

    /// Stores `task`, or for `attempts` > 1 a parent and its attempts (see ``TaskAttempts``).
    private func insert(_ task: TaskRecord, attempts: Int, idempotency: (key: String, fingerprint: String)?) async throws(TaskError)
        -> (task: TaskRecord, reused: Bool) {
        try TaskAttempts.check(attempts)
        guard attempts > 1 else { return try await insert(task, idempotency: idempotency) }
        if task.github?.openPullRequest != nil {
            throw TaskError.invalidArgument("--open-pr takes one attempt: run the attempts, then resume the one you want with --attempt K --open-pr")
        }
        let (parent, children) = TaskAttempts.split(task, count: attempts)
        let writer = try writableStore()
        let winner: String?
        do { winner = try await writer.insert(parent: parent, attempts: children, idempotency: idempotency) } catch { throw TaskError.store(error) }
        guard let winner else { return (parent, false) }
        guard let idempotency, let earlier = try await earlierTask(owner: parent.owner, idempotency: idempotency), earlier.id == winner else {
            throw TaskError.conflict("the idempotency key was already used for a different request")
        }
        return (earlier, true)
    }

    /// The attempts of a best-of-N parent, by number, with what each changed.
    public func attempts(_ taskID: String) async throws(TaskError) -> [TaskAttemptView] {
        let attempts: [TaskRecord]
        do { attempts = try await store.attempts(of: taskID) } catch { throw TaskError.store(error) }
        var views: [TaskAttemptView] = []
        for attempt in attempts {
            views.append(TaskAttemptView(attempt, artifacts: try await artifacts(attempt.id)))
        }
        return views
    }

    /// The task an earlier request with this idempotency key created, if it was the same request.
    private func earlierTask(owner: String?, idempotency: (key: String, fingerprint: String)) async throws(TaskError) -> TaskRecord? {
        let writer = try writableStore()
        let earlier: (taskID: String, fingerprint: String)?
        do { earlier = try await writer.idempotentTask(owner: owner ?? "", key: idempotency.key) } catch { throw TaskError.store(error) }
        guard let earlier else { return nil }
        guard earlier.fingerprint == idempotency.fingerprint else {
            throw TaskError.conflict("the idempotency key was already used for a different request")
        }
        do { return try await writer.task(id: earlier.taskID) } catch { throw TaskError.store(error) }
    }

    private func insert(_ task: TaskRecord, idempotency: (key: String, fingerprint: String)?) async throws(TaskError) -> (task: TaskRecord, reused: Bool) {
        let writer = try writableStore()
        guard let idempotency else {
            do { try await writer.insert(task) } catch { throw TaskError.store(error) }
            return (task, false)
        }
        let winner: String?
        do { winner = try await writer.insert(task, idempotencyKey: idempotency.key, fingerprint: idempotency.fingerprint) } catch {
            throw TaskError.store(error)
        }
        guard let winner else { return (task, false) }
        // A concurrent request with the same key won.
        guard let earlier = try await earlierTask(owner: task.owner, idempotency: idempotency), earlier.id == winner else {
            throw TaskError.conflict("the idempotency key was already used for a different request")
        }
        return (earlier, true)
    }

    /// Stores a child task that continues `parent` with a new prompt.
    public func resume(_ parentIDOrPrefix: String, prompt: String, timeoutSeconds: Int? = nil, maxTurns: Int? = nil,
                       model: String? = nil, backend: SandboxKind? = nil, network: NetworkMode? = nil, allowHosts: [String] = [],
                       readOnlyPaths: [String] = []) async throws(TaskError) -> TaskRecord {
        try await resume(parentIDOrPrefix, prompt: prompt, timeoutSeconds: timeoutSeconds, maxTurns: maxTurns, model: model, backend: backend,
                         network: network, allowHosts: allowHosts, readOnlyPaths: readOnlyPaths, owner: nil, queuedBy: nil, idempotency: nil).task
    }

    /// ``resume(_:prompt:timeoutSeconds:maxTurns:model:backend:network:allowHosts:readOnlyPaths:)`` for a server: the child
    /// belongs to `owner` and waits in the queue of `queuedBy`; an idempotency key works as for ``create(_:queuedBy:idempotency:)``.
    public func resume(_ parentIDOrPrefix: String, prompt: String, timeoutSeconds: Int?, maxTurns: Int?, model: String?, backend: SandboxKind?,
                       network: NetworkMode?, allowHosts: [String], readOnlyPaths: [String], owner: String?, queuedBy: String?,
                       idempotency: (key: String, fingerprint: String)?,
                       openPullRequest: GitHubTaskOptions.OpenPullRequest? = nil,
                       notifyURL: String? = nil, maxCostUSD: Double? = nil, attempts: Int = 1,
                       keepAliveSeconds: Int? = nil) async throws(TaskError) -> (task: TaskRecord, reused: Bool) {
        if let idempotency, let earlier = try await earlierTask(owner: owner, idempotency: idempotency) { return (earlier, true) }
        try TaskAttempts.check(attempts)
        let parent = try await resolve(parentIDOrPrefix)
        if parent.isAttemptParent {
            throw TaskError.invalidArgument("task \(parent.id) ran \(parent.attempts ?? 0) attempts: resume one of them (its own id, or --attempt K)")
        }
        guard parent.status.isTerminal else { throw TaskError.notResumable("task \(parent.id) is still \(parent.status)") }
        guard parent.sessionID != nil else { throw TaskError.notResumable("task \(parent.id) has no agent session (it never started the agent)") }
        guard parent.baseCommit != nil else { throw TaskError.notResumable("task \(parent.id) never got a workspace") }
        guard FileManager.default.fileExists(atPath: paths.taskFolder(parent.id).appendingPathComponent("transcript.jsonl").path) else {
            throw TaskError.notResumable("the transcript of task \(parent.id) was not saved")
        }
        let trimmed = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw TaskError.invalidArgument("the prompt must not be empty") }
        let chosen = try backends.resolveBackend(backend ?? parent.sandboxBackend)
        try preflight(backend: chosen)
        var child = TaskRecord(
            id: TaskID.make(), prompt: trimmed, repositoryURL: parent.repositoryURL, branch: parent.branch, parentID: parent.id,
            sandboxBackend: chosen, template: parent.template, model: model ?? parent.model, maxTurns: maxTurns ?? parent.maxTurns,
            timeoutSeconds: timeoutSeconds ?? parent.timeoutSeconds,
            sandboxPolicy: try SandboxPolicy.resolve(network: network, allowHosts: allowHosts, readOnlyPaths: readOnlyPaths,
                                                     environment: environment, base: parent.sandboxPolicy ?? SandboxPolicy()),
            owner: owner)
        child.queuedBy = queuedBy
        child.notifyURL = try self.notifyURL(notifyURL)
        child.maxCostUSD = try maxCost(maxCostUSD)
        // A chain of follow-ups stays instant: the parent's keep-alive goes on unless given.
        let inherited = chosen == parent.sandboxBackend ? parent.keepAliveSeconds : nil
        child.keepAliveSeconds = try keepAlive(keepAliveSeconds ?? inherited, backend: chosen)
        if let openPullRequest {
            try checkGitHubWork(GitHubTaskOptions(openPullRequest: openPullRequest), source: try RepositorySource(parent.repositoryURL))
            child.github = GitHubTaskOptions(openPullRequest: openPullRequest)
            // The pull request the chain already opened is updated, on its branch.
            if let ancestor = try await pullRequestAncestor(of: parent) {
                child.pullRequestBranch = ancestor.pullRequestBranch
                child.pullRequestNumber = ancestor.pullRequestNumber
                child.pullRequestURL = ancestor.pullRequestURL
            }
        }
        return try await insert(child, attempts: attempts, idempotency: idempotency)
    }

    // MARK: Keep-alive

    /// The keep-alive of a new task on `backend`: `requested` (0: off), else `CA_KEEP_ALIVE`;
    /// a backend that cannot pause sandboxes refuses an explicit one (see ``KeepAlive``).
    func keepAlive(_ requested: Int?, backend: SandboxKind) throws(TaskError) -> Int? {
        try KeepAlive.resolve(requested, environment: environment, backend: backend) {
            backend.isCloud && ((try? backends.provider(named: backend))?.supportsPause ?? false)
        }
    }

    // MARK: Cost cap

    /// Largest `--max-cost` accepted, in dollars.
    public static let maximumCostCap = 100_000.0

    /// The cost cap of a new task: `requested`, else `CA_MAX_COST`, checked; `nil` for none.
    /// The price table (`CA_PRICE_TABLE`) is checked too, so a broken one fails before the task runs.
    func maxCost(_ requested: Double?) throws(TaskError) -> Double? {
        var cap = requested
        if cap == nil, let text = environment["CA_MAX_COST"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let value = Self.parseDollars(text) else {
                throw TaskError.invalidArgument("CA_MAX_COST must be an amount in dollars such as 5 or 0.50, not '\(text)'")
            }
            cap = value
        }
        guard let cap else { return nil }
        guard cap.isFinite, cap > 0, cap <= Self.maximumCostCap else {
            throw TaskError.invalidArgument("the cost cap must be more than $0 and at most $\(Int(Self.maximumCostCap))")
        }
        _ = try PriceTable.from(environment: environment)
        return cap
    }

    /// `5`, `0.50`, `$2` → dollars; `nil` when it is not such an amount.
    public static func parseDollars(_ text: String) -> Double? {
        var digits = text.trimmingCharacters(in: .whitespaces)
        if digits.hasPrefix("$") { digits.removeFirst() }
        guard !digits.isEmpty, digits.count <= 20, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              digits.filter({ $0 == "." }).count <= 1, let value = Double(digits), value.isFinite else { return nil }
        return value
    }

    // MARK: Webhooks

    /// The webhook of a new task: `requested`, else `CA_NOTIFY_URL`, checked; `nil` for none.
    /// Deliveries are signed, so a webhook needs `CA_WEBHOOK_SECRET`.
    func notifyURL(_ requested: String?) throws(TaskError) -> String? {
        guard let url = (requested ?? environment["CA_NOTIFY_URL"])?.trimmingCharacters(in: .whitespaces), !url.isEmpty else { return nil }
        try WebhookNotifier.check(url: url)
        guard WebhookNotifier.secret(in: environment) != nil else {
            throw TaskError.invalidArgument("--notify needs CA_WEBHOOK_SECRET (at least 16 characters): every delivery is signed with it")
        }
        return url
    }

    // MARK: GitHub

    /// GitHub as this environment configures it (`GH_TOKEN`, `GITHUB_SERVER_URL`, …).
    public func github() throws(TaskError) -> GitHubAccess {
        GitHubAccess(configuration: try GitHubAccess.configuration(from: environment), httpClient: backends.httpClient.client)
    }

    /// The clone URL `OWNER/NAME` stands for on the configured GitHub, or `nil` when `input` is
    /// not of that form.
    public func gitHubRepositoryURL(shorthand input: String) throws(TaskError) -> String? {
        guard let repository = GitHubRepository(shorthand: input) else { return nil }
        return try GitHubAccess.configuration(from: environment).cloneURL(for: repository)
    }

    /// `OWNER/NAME` stands for the repository on the configured GitHub, unless a folder of that
    /// name exists here (a local path wins).
    func expandRepository(_ input: String) throws(TaskError) -> String {
        let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard GitHubAccess.isShorthand(trimmed) else { return input }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDirectory), isDirectory.boolValue { return input }
        return try gitHubRepositoryURL(shorthand: trimmed) ?? input
    }

    /// `--open-pr` needs a repository on the configured GitHub and a token.
    private func checkGitHubWork(_ options: GitHubTaskOptions?, source: RepositorySource) throws(TaskError) {
        guard let options, options.openPullRequest != nil else { return }
        let github = try github()
        guard case .remote(let url) = source.location, github.repository(inURL: url) != nil else {
            throw TaskError.invalidArgument("--open-pr needs a repository on \(github.configuration.serverURL.absoluteString) "
                                            + "(OWNER/NAME or its URL), not \(source.displayURL)")
        }
        try github.requireToken(for: "--open-pr")
        if let base = options.openPullRequest?.base, !Self.isValidBranchName(base) {
            throw TaskError.invalidArgument("'\(base)' is not a valid branch name")
        }
    }

    /// The nearest task of a resume chain that opened a pull request.
    private func pullRequestAncestor(of task: TaskRecord) async throws(TaskError) -> TaskRecord? {
        var current: TaskRecord? = task
        var seen = 0
        while let t = current, seen < 1_000 {
            if t.pullRequestNumber != nil, t.pullRequestBranch != nil { return t }
            guard let parentID = t.parentID else { return nil }
            do { current = try await store.task(id: parentID) } catch { throw TaskError.store(error) }
            seen += 1
        }
        return nil
    }

    /// A branch name git and GitHub accept (a conservative subset of `git check-ref-format`).
    static func isValidBranchName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, !name.hasPrefix("-"), !name.hasPrefix("/"), !name.hasSuffix("/"),
              !name.hasSuffix(".lock"), !name.hasSuffix("."), !name.contains(".."), !name.contains("//"), !name.contains("@{") else { return false }
        return name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !"~^:?*[\\ ".unicodeScalars.contains($0) }
    }

    /// Stores a task that reviews pull request `number` of `repository` (`OWNER/NAME`): the
    /// workspace is the pull request's head, and with `post` the review goes on GitHub.
    public func review(repository: String, number: Int, post: Bool, instructions: String?, backend: SandboxKind?, model: String?,
                       timeoutSeconds: Int, maxTurns: Int?, network: NetworkMode? = nil, allowHosts: [String] = [], readOnlyPaths: [String] = [],
                       notifyURL: String? = nil, maxCostUSD: Double? = nil, owner: String? = nil, queuedBy: String? = nil,
                       idempotency: (key: String, fingerprint: String)? = nil) async throws(TaskError) -> (task: TaskRecord, reused: Bool) {
        guard let name = GitHubRepository(shorthand: repository.trimmingCharacters(in: .whitespaces)) else {
            throw TaskError.invalidArgument("--repo must be OWNER/NAME for a pull request review, not '\(repository)'")
        }
        guard number >= 1, number <= Int(Int32.max) else { throw TaskError.invalidArgument("a pull request number is a positive integer") }
        let github = try github()
        if post { try github.requireToken(for: "posting a review") }
        let extra = instructions?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        var request = TaskRequest(prompt: "Review pull request #\(number) of \(name)" + (extra.isEmpty ? "" : "\n\n" + extra),
                                  repository: github.configuration.cloneURL(for: name), backend: backend,
                                  timeoutSeconds: timeoutSeconds, maxTurns: maxTurns, model: model, network: network,
                                  allowHosts: allowHosts, readOnlyPaths: readOnlyPaths)
        request.owner = owner
        request.notifyURL = notifyURL
        request.maxCostUSD = maxCostUSD
        request.github = GitHubTaskOptions(review: .init(repository: name.description, number: number, post: post))
        return try await create(request, queuedBy: queuedBy, idempotency: idempotency)
    }

    // MARK: API keys (ca serve)

    /// Makes a key and stores its hash. Returns the key: it is shown once and never again.
    /// `notifyURL` and `maxCostUSD` are the defaults of the tasks the key creates.
    public func createKey(name: String, admin: Bool, notifyURL: String? = nil, maxCostUSD: Double? = nil) async throws(TaskError) -> String {
        guard APIKeys.isValidName(name) else {
            throw TaskError.invalidArgument("a key name is 1 to 64 letters, digits, '-', '_' or '.', not '\(name)'")
        }
        if let notifyURL { try WebhookNotifier.check(url: notifyURL) }   // the secret is the server's, checked per task
        if let maxCostUSD { _ = try maxCost(maxCostUSD) }
        let key = APIKeys.generate()
        let writer = try writableStore()
        let record = APIKeyRecord(name: name, hash: APIKeys.hash(key), admin: admin, notifyURL: notifyURL, maxCostUSD: maxCostUSD)
        do { try await writer.insert(key: record) } catch {
            throw TaskError.conflict(error.description)
        }
        return key
    }

    /// Every key (hashes only).
    public func keys() async throws(TaskError) -> [APIKeyRecord] {
        do { return try await store.keys() } catch { throw TaskError.store(error) }
    }

    /// Revokes a key; `false` when there was no live key of that name.
    public func revokeKey(name: String) async throws(TaskError) -> Bool {
        let writer = try writableStore()
        do { return try await writer.revokeKey(name: name) } catch { throw TaskError.store(error) }
    }

    /// Checks what a task needs before it is recorded: credentials, the agent binary, and for
    /// the local backend bubblewrap (unless isolation was explicitly turned off).
    func preflight(backend: SandboxKind) throws(TaskError) {
        guard AgentCredentials.fromEnvironment(environment).isUsable else { throw TaskError.missingCredentials }
        _ = try backends.agentExecutable(for: backend)
        if backend.isCloud { _ = try backends.provider(named: backend) }   // the backend's keys and URLs
        if backend == .local, !backends.localIsolationDisabled, HostCommand.which("bwrap", path: environment["PATH"]) == nil {
            throw TaskError.sandbox(.missingDependency(program: "bwrap", package: "bubblewrap"))
        }
    }

    /// Builds a runner for a stored task.
    public func makeRunner(for task: TaskRecord, extractor: WorkspaceExtractor = WorkspaceExtractor(),
                           observer: @escaping @Sendable (TaskProgress) -> Void = { _ in }) throws(TaskError) -> TaskRunner {
        let provider = try backends.provider(named: task.sandboxBackend, readOnlyPaths: (task.sandboxPolicy ?? SandboxPolicy()).readOnlyPaths)
        let configuration = EngineConfiguration(
            paths: paths,
            credentials: AgentCredentials.fromEnvironment(environment),
            passthroughEnvironment: environment.filter { AgentInvocation.passthroughNames.contains($0.key) },
            agentExecutable: try backends.agentExecutable(for: task.sandboxBackend),
            idleTimeout: environment["CA_IDLE_TIMEOUT"].flatMap(DurationFormat.parse) ?? 600,
            template: backends.defaultTemplate,
            extractor: extractor,
            github: try? github(),
            notifier: WebhookNotifier.secret(in: environment).map {
                WebhookNotifier(secret: $0, httpClient: backends.httpClient.client,
                                retryWindow: .seconds(environment["CA_NOTIFY_RETRY_WINDOW"].flatMap(DurationFormat.parse) ?? 300),
                                attemptTimeout: .seconds(environment["CA_NOTIFY_TIMEOUT"].flatMap(DurationFormat.parse) ?? 10))
            },
            prices: try PriceTable.from(environment: environment))
        return TaskRunner(store: try writableStore(), provider: provider, configuration: configuration, hub: hub, observer: observer)
    }

    // MARK: Reading

    /// Finds a task by id or unique id prefix.
    public func resolve(_ idOrPrefix: String) async throws(TaskError) -> TaskRecord {
        do { return try await store.resolve(idOrPrefix) } catch { throw TaskError.store(error) }
    }

    /// Tasks, newest first.
    public func list(status: TaskStatus?, limit: Int) async throws(TaskError) -> [TaskRecord] {
        do { return try await store.list(status: status, limit: limit) } catch { throw TaskError.store(error) }
    }

    /// Events of a task after a sequence number.
    public func events(_ taskID: String, after: Int) async throws(TaskError) -> [EventRecord] {
        do { return try await store.events(taskID: taskID, after: after) } catch { throw TaskError.store(error) }
    }

    /// Files saved (or skipped) for a task.
    public func artifacts(_ taskID: String) async throws(TaskError) -> [ArtifactRecord] {
        do { return try await store.artifacts(taskID: taskID) } catch { throw TaskError.store(error) }
    }

    // MARK: Cancelling

    /// Asks a task to stop. A queued task is cancelled at once; a running one within seconds.
    @discardableResult
    public func cancel(_ idOrPrefix: String) async throws(TaskError) -> TaskRecord {
        let task = try await resolve(idOrPrefix)
        guard !task.status.isTerminal else { return task }
        let writer = try writableStore()
        if task.isAttemptParent {
            // Every attempt is asked to stop; the parent follows them.
            do {
                try await writer.cancelAttempts(of: task.id)
                let settled = try await writer.settleAttempts(of: task.id).parent
                hub.publish(task.id)
                return settled
            } catch { throw TaskError.store(error) }
        }
        do {
            return try await writer.update(task.id, durable: true) { t in
                t.cancelRequested = true
                if t.status == .queued && t.runnerPID == nil {
                    t.status = .cancelled
                    t.error = "cancelled by request"
                    t.finishedAt = Date()
                }
            }
        } catch { throw TaskError.store(error) }
    }

    /// The events of a task after sequence `after`, as they are stored, then the task when it
    /// ended. Works for tasks run by this process (woken at once) and by others (polled).
    /// - Parameter idleInterval: when set, ``TaskFollowItem/idle`` comes after this long without events.
    public func follow(_ taskID: String, after: Int = 0, pollInterval: Duration = .milliseconds(250),
                       recoveryInterval: Duration = .seconds(5), idleInterval: Duration? = nil) -> TaskFollow {
        TaskFollow(service: self, taskID: taskID, after: after, pollInterval: pollInterval, recoveryInterval: recoveryInterval,
                   idleInterval: idleInterval)
    }

    /// Waits until the task ends or `timeout` seconds pass. Returns the latest record.
    public func wait(_ id: String, timeout: Double?) async throws(TaskError) -> TaskRecord {
        let task = try await resolve(id)
        if task.status.isTerminal { return task }
        let deadline = timeout.map { ContinuousClock.now + .milliseconds(Int64($0 * 1000)) }
        // Only the end matters: follow from the last event.
        let last = (try? await store.lastSequence(taskID: task.id)) ?? 0
        let ended: TaskRecord? = await withTaskGroup(of: TaskRecord?.self) { group in
            group.addTask {
                var iterator = self.follow(task.id, after: last).makeAsyncIterator()
                while let item = try? await iterator.next() {
                    if case .finished(let record) = item { return record }
                }
                return nil
            }
            if let deadline {
                group.addTask { try? await Task.sleep(until: deadline); return nil }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let ended { return ended }
        return try await resolve(task.id)
    }

    // MARK: Sandboxes

    /// ca's live sandboxes and their tasks.
    public var inventory: SandboxInventory { SandboxInventory(store: store, backends: backends) }

    /// Health checks.
    public var doctor: Doctor { Doctor(backends: backends, environment: environment) }

    // MARK: Crash recovery

    /// Finds tasks whose runner process died and marks them failed, killing their sandboxes.
    @discardableResult
    /// Claims the tasks a stopped server left running in cloud sandboxes for this server
    /// instance, which then re-attaches to them (``TaskRunner/reattach(_:)``). Atomic per task:
    /// of two servers, one gets it.
    public func claimTasksToReattach(instance: String) async -> [TaskRecord] {
        guard let candidates = try? await store.unfinishedTasks(), let writable = try? writableStore() else { return [] }
        let recovery = TaskRecovery(store: store, backends: backends) { () throws(TaskError) in writable }
        let host = ProcessInfo.processInfo.hostName
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        let now = Date()
        var claimed: [TaskRecord] = []
        for task in candidates where recovery.awaitsReattach(task, host: host, now: now) {
            let snapshot = task
            let beat = Date()
            guard let updated = try? await writable.update(task.id, durable: true, { t in
                guard t.status == .running, t.runnerPID == snapshot.runnerPID, t.heartbeatAt == snapshot.heartbeatAt else { return }
                t.runnerPID = pid
                t.runnerHost = host
                t.heartbeatAt = beat
                t.queuedBy = instance
            }), updated.runnerPID == pid, updated.heartbeatAt == beat else { continue }
            claimed.append(updated)
        }
        return claimed
    }

    /// Repositories uploaded as git bundles (by the remote CLI, for a folder on the client's disk).
    public var bundles: RepositoryBundles { RepositoryBundles(paths: paths) }

    public func recoverOrphans() async -> [TaskRecord] {
        let recovery = TaskRecovery(store: store, backends: backends) { () throws(TaskError) in try self.writableStore() }
        return await recovery.run()
    }

    /// Kills the paused sandboxes (`--keep-alive`) whose window has passed; see ``KeepAlive``.
    @discardableResult
    public func expirePausedSandboxes(now: Date = Date()) async -> [TaskStore.PausedSandbox] {
        await KeepAlive.expireOverdue(store: store, backends: backends, writer: { () throws(TaskError) in try self.writableStore() }, now: now)
    }
}

extension RepositorySource.Location {
    /// What is stored as `repository_url`: local paths absolute, remote URLs without credentials.
    func storedForm(display: String) -> String {
        switch self {
        case .local(let path): return path
        case .remote: return display
        case .bundle(let id): return RepositorySource.bundleScheme + id
        }
    }
}

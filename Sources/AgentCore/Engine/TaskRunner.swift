import Foundation
import SandboxClient
import Synchronization

/// Runs one task from start to end: sandbox, clone, agent, extraction, teardown.
///
/// ``run(taskID:)`` never throws: every failure ends up in the task's `status` and `error`,
/// and the sandbox is killed on every path. A monitor loop running beside the work writes the
/// heartbeat, notices `ca task cancel`, and enforces the deadline and the inactivity limit.
public final class TaskRunner: Sendable {
    struct State {
        var stopReason: StopReason?
        var sandbox: (any Sandbox)?
        var handle: CommandHandle?
        var lastOutput = Date()
        var agentRunning = false
        var extracting = false
        var resultAt: Date?
        var killedHandlePID: Int?
        /// The sandbox is never kept alive past this (the deadline plus the extraction budget).
        var lifetimeLimit = Date.distantFuture
        /// A recorded (cloud) agent's output is being read: the runner may detach now.
        var readingRecordedAgent = false
        /// ``detach()`` was accepted: the runner lets go, leaving the agent to run on.
        var detached = false
        /// The step (by a token of its call) that ``runStep`` killed for overrunning its timeout.
        var timedOutStep: UUID?
        /// What GitHub said about the pull request a review task reviews.
        var reviewContext: PullRequestReviewer.Context?
        /// The task's running cost (fed by the agent's output and by the gateway's view of the
        /// model calls) against its `--max-cost`.
        var meter: CostMeter?
        /// The best-of-N parent this attempt's end ended (see ``endedParent``).
        var endedParent: TaskRecord?
    }

    let store: TaskStore
    let provider: any SandboxProvider
    let configuration: EngineConfiguration
    private let observer: @Sendable (TaskProgress) -> Void
    let state = Mutex(State())
    let redactor: SecretRedactor
    private let hub: TaskEventHub?

    public init(store: TaskStore, provider: any SandboxProvider, configuration: EngineConfiguration, hub: TaskEventHub? = nil,
                observer: @escaping @Sendable (TaskProgress) -> Void = { _ in }) {
        self.hub = hub
        self.store = store
        self.provider = provider
        self.configuration = configuration
        self.observer = observer
        self.redactor = SecretRedactor(secrets: configuration.credentials.secrets + (configuration.github?.configuration.secrets ?? []))
    }

    /// Asks the runner to stop the task. Safe to call from any thread, any number of times.
    public func requestStop(_ reason: StopReason) {
        state.withLock { if $0.stopReason == nil { $0.stopReason = reason } }
    }

    private var stopReason: StopReason? { state.withLock { $0.stopReason } }

    /// Lets go of a cloud task whose agent is running, for a server that shuts down: the agent
    /// runs on in its sandbox, the task stays `running`, and the next server start re-attaches
    /// (``reattach(_:)``). Returns `false` when the task is not in that state (a local task, or
    /// one that is not at its agent step): stop it with ``requestStop(_:)`` instead.
    public func detach() -> Bool {
        state.withLock { s in
            guard s.readingRecordedAgent, s.stopReason == nil else { return s.detached }
            s.detached = true
            return true
        }
    }

    /// Posts the end of `final` to its `--notify` URL (signed, retried within the window; see
    /// ``WebhookNotifier``). Call it after the outcome was reported: a receiver that never
    /// answers delays only this call, never the task's recorded end.
    public func notify(_ final: TaskRecord) async {
        guard final.status.isTerminal, final.notifyURL != nil, let notifier = configuration.notifier else { return }
        await notifier.deliver(final, store: store)
    }

    /// Runs the task and returns its final record.
    public func run(taskID: String) async -> TaskRecord {
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        let host = ProcessInfo.processInfo.hostName
        let started: TaskRecord
        do {
            // Only a queued task is started; anything else is returned as it is.
            guard let current = try await store.task(id: taskID), current.status == .queued else {
                let existing = try await store.task(id: taskID)
                if let existing { observer(.finished(existing)) }
                return existing ?? TaskRecord(id: taskID, prompt: "", repositoryURL: "", sandboxBackend: SandboxKind(name: provider.name) ?? .local, timeoutSeconds: 0)
            }
            started = try await store.update(current.id, durable: true) { t in
                t.status = .running
                t.startedAt = Date()
                t.runnerPID = pid
                t.runnerHost = host
                t.heartbeatAt = Date()
            }
        } catch {
            // Nothing to run: report what we can.
            return (try? await store.task(id: taskID)) ?? TaskRecord(id: taskID, prompt: "", repositoryURL: "", sandboxBackend: SandboxKind(name: provider.name) ?? .local, timeoutSeconds: 0)
        }
        await settleParent(of: started)
        // A cloud agent's output is also recorded in its sandbox, counted from the first byte.
        let final = await drive(started, offset: started.sandboxBackend.isCloud ? 0 : nil) { ingestor, reports in
            await self.execute(started, ingestor: ingestor, networkReports: reports)
        }
        await settleParent(of: final)
        return final
    }

    /// For an attempt of a best-of-N run: derives its parent's status and cost again (see
    /// ``TaskAttempts``), and wakes the parent's followers.
    private func settleParent(of task: TaskRecord) async {
        guard let parentID = task.attemptOf else { return }
        if let settled = try? await store.settleAttempts(of: parentID), settled.ended {
            state.withLock { $0.endedParent = settled.parent }
        }
        hub?.publish(parentID)
    }

    /// When this runner's task was the last attempt of a best-of-N run to end: the parent, which
    /// its end ended. Its owner posts the parent's webhook with ``notify(_:)`` after the attempt's
    /// (of all the attempts' runners, exactly one has it).
    public var endedParent: TaskRecord? { state.withLock { $0.endedParent } }

    /// Takes over a cloud task whose runner stopped (a restarted server) while its agent ran:
    /// connects to the sandbox again, stores the agent's output from the last stored byte of
    /// the recording (see ``AgentRecording``), then saves the changes and ends the task as
    /// ``run(taskID:)`` would. The caller has claimed the task (``TaskService/claimTasksToReattach(instance:)``).
    public func reattach(_ task: TaskRecord) async -> TaskRecord {
        let final = await drive(task, offset: task.agentOffset ?? 0) { ingestor, _ in
            await self.continueAttached(task, ingestor: ingestor)
        }
        await settleParent(of: final)
        return final
    }

    /// Runs `work` beside the monitor, then tears down and records the outcome.
    private func drive(_ started: TaskRecord, offset: Int?,
                       _ work: @escaping @Sendable (EventIngestor, AsyncStream<SandboxNetworkEvent>.Continuation) async -> Outcome) async -> TaskRecord {
        let taskID = started.id
        if started.cancelRequested { requestStop(.cancelled) }
        state.withLock { $0.meter = CostMeter(cap: started.maxCostUSD, prices: configuration.prices) }

        let ingestor = EventIngestor(store: store, taskID: taskID, redactor: redactor, offset: offset, onStored: { [hub] in hub?.publish(taskID) })
        let deadline = (started.startedAt ?? Date()).addingTimeInterval(TimeInterval(started.timeoutSeconds))
        // What the sandbox's network gateway allowed or denied, recorded as task events (the
        // gateway reports from a network thread, which must not wait for the store).
        let (networkEvents, networkReports) = AsyncStream.makeStream(of: SandboxNetworkEvent.self, bufferingPolicy: .bufferingOldest(Self.maximumNetworkNotes))

        let outcome: Outcome = await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                await self.monitor(taskID: taskID, deadline: deadline, timeout: started.timeoutSeconds)
                // The monitor only returns early for a detach: then the work is cancelled.
                return self.state.withLock { $0.detached } ? Outcome(status: .running, error: nil) : nil
            }
            group.addTask { await self.recordNetworkEvents(networkEvents, ingestor: ingestor); return nil }
            group.addTask { await work(ingestor, networkReports) }
            var result: Outcome?
            for await value in group {
                if let value, result == nil { result = value; group.cancelAll() }
            }
            return result ?? Outcome(status: .failed, error: "internal error: no outcome")
        }

        if state.withLock({ $0.detached }) {
            // The agent runs on in its sandbox; the next server start takes the task over.
            let sandboxID = state.withLock { $0.sandbox?.id } ?? "?"
            await step(ingestor, "agent", "left running in sandbox \(sandboxID): the next server start re-attaches")
            _ = try? await store.update(taskID, durable: true) { $0.runnerPID = nil }
            hub?.publish(taskID)
            return (try? await store.task(id: taskID)) ?? started
        }
        // Teardown on every path: killed, or paused for `--keep-alive`.
        if let sandbox = state.withLock({ $0.sandbox }) {
            await release(sandbox, taskID: taskID, status: outcome.status, ingestor: ingestor)
        }
        _ = try? await ingestor.finish()
        return await finish(started, outcome: outcome)
    }

    // MARK: - The work

    struct Outcome: Sendable {
        var status: TaskStatus
        var error: String?
        var result: AgentResult?
        /// Set where the cause is known better than the stop reason or the result tell.
        var reason: TaskFailureReason?
    }

    private func execute(_ task: TaskRecord, ingestor: EventIngestor, networkReports: AsyncStream<SandboxNetworkEvent>.Continuation) async -> Outcome {
        do {
            // A review reads its pull request before any sandbox is paid for.
            if task.github?.review != nil { _ = try await reviewContext(for: task, ingestor: ingestor) }
            let sandbox: any Sandbox
            let base: String
            // A resume continues in its parent's paused sandbox when it can (`--keep-alive`).
            if let kept = try await resumeKeptSandbox(task, ingestor: ingestor) {
                (sandbox, base) = kept
            } else {
                sandbox = try await createSandbox(task, ingestor: ingestor, networkReports: networkReports)
                if let reason = stopReason { return Outcome(status: reason.status, error: reason.message) }
                base = try await prepareWorkspace(task, sandbox: sandbox, ingestor: ingestor)
            }
            if let reason = stopReason { return Outcome(status: reason.status, error: reason.message) }
            let prompt = try await agentPrompt(for: task, layout: SandboxLayout(home: sandbox.homeDirectory), ingestor: ingestor)
            let agent = try await runAgent(task, prompt: prompt, sandbox: sandbox, ingestor: ingestor)
            return await conclude(task, sandbox: sandbox, baseCommit: base, agent: agent, ingestor: ingestor)
        } catch {
            if let reason = stopReason { return Outcome(status: reason.status, error: reason.message) }
            return Outcome(status: .failed, error: redactor.redact(error.description))
        }
    }

    /// The rest of ``reattach(_:)``: the sandbox again, the agent's recorded output from the
    /// stored offset on, then as ``execute(_:ingestor:networkReports:)``.
    private func continueAttached(_ task: TaskRecord, ingestor: EventIngestor) async -> Outcome {
        do throws(TaskError) {
            guard let sandboxID = task.sandboxID, let base = task.baseCommit, let offset = task.agentOffset else {
                throw TaskError.step("cannot re-attach: the task has no running agent on record")
            }
            await step(ingestor, "sandbox", "re-attaching to sandbox \(sandboxID) after a restart")
            let sandbox: any Sandbox
            do { sandbox = try await provider.connect(id: sandboxID) } catch {
                throw TaskError.step("cannot re-attach to sandbox \(sandboxID): \(error)")
            }
            state.withLock { $0.sandbox = sandbox }
            if let reason = stopReason { return Outcome(status: reason.status, error: reason.message) }
            let recording = AgentRecording(layout: SandboxLayout(home: sandbox.homeDirectory))
            await step(ingestor, "agent", "reading the agent's output on from byte \(offset)")
            let handle: CommandHandle
            do { handle = try await sandbox.start(recording.follow(from: offset)) } catch { throw TaskError.sandbox(error) }
            let agent = try await consumeAgent(task, handle: handle, sandbox: sandbox, ingestor: ingestor, recording: recording,
                                               sessionID: task.sessionID)
            return await conclude(task, sandbox: sandbox, baseCommit: base, agent: agent, ingestor: ingestor)
        } catch {
            if let reason = stopReason { return Outcome(status: reason.status, error: reason.message) }
            return Outcome(status: .failed, error: redactor.redact(error.description))
        }
    }

    /// Saves the changes of a finished agent run and judges the task.
    private func conclude(_ task: TaskRecord, sandbox: any Sandbox, baseCommit base: String, agent: AgentRun, ingestor: EventIngestor) async -> Outcome {
        let extraction = await extract(task, sandbox: sandbox, baseCommit: base, ingestor: ingestor, sessionID: agent.sessionID)
        // A run that reached its `result` is judged by it, even if a stop came in afterwards
        // (but a cancel that had to interrupt saving the changes is a cancel).
        if agent.result == nil, let reason = stopReason { return Outcome(status: reason.status, error: reason.message) }
        if extraction != nil, let reason = stopReason, reason.status == .cancelled {
            return Outcome(status: .cancelled, error: "\(reason.message) while the changes were being saved", result: agent.result)
        }
        // A cap reached stays a failure whatever the agent said (a cap never fails open), and
        // takes precedence over the API error the gateway's refusal makes the agent report.
        if let cap = task.maxCostUSD, let spent = await costOfRun(task, result: agent.result), spent >= cap {
            let detail = extraction.map { "; could not save the changed files: \($0)" } ?? ""
            return Outcome(status: .failed, error: StopReason.budgetExceeded(cap: cap, spent: spent).message + detail,
                           result: agent.result, reason: .budgetExceeded)
        }
        if let result = agent.result {
            if result.succeeded {
                if let extraction { return Outcome(status: .failed, error: "could not save the changed files: \(extraction)", result: result) }
                return await publishToGitHub(task, sandbox: sandbox, result: result, ingestor: ingestor)
            }
            return Outcome(status: .failed, error: redactor.redact(result.failureReason), result: result)
        }
        let detail = agent.stderrTail.map { ": \($0)" } ?? ""
        return Outcome(status: .failed, error: redactor.redact("agent ended without a result (\(agent.exit.status))\(detail)"))
    }

    private func createSandbox(_ task: TaskRecord, ingestor: EventIngestor,
                               networkReports: AsyncStream<SandboxNetworkEvent>.Continuation) async throws(TaskError) -> any Sandbox {
        await step(ingestor, "sandbox", "starting \(provider.name) sandbox")
        let clock = ContinuousClock.now
        let network = try sandboxNetwork(for: task, reports: networkReports)
        let spec = SandboxSpec(
            template: task.template ?? configuration.template,
            lifetime: Self.sandboxLifetime(for: task),
            environment: [:],
            metadata: [SandboxMetadata.taskID: task.id, SandboxMetadata.version: configuration.version, SandboxMetadata.installation: store.installationID],
            network: network)
        let sandbox: any Sandbox
        do { sandbox = try await provider.create(spec) } catch { throw TaskError.sandbox(error) }
        state.withLock { $0.sandbox = sandbox }
        _ = try? await store.update(task.id) { $0.sandboxID = sandbox.id }
        var access = ""
        if sandbox.networkGateway != nil {
            switch network.access {
            case .none: access = " · network: the agent API only"
            case .allowlist(let rules): access = " · network: the agent API and \(rules.isEmpty ? "nothing else" : rules.map(\.description).joined(separator: ", "))"
            case .open: access = " · network: open (through ca's proxy)"
            }
        }
        await step(ingestor, "sandbox", "sandbox \(sandbox.id) ready in \(Self.since(clock))\(access)")
        return sandbox
    }

    /// The network of a task's sandbox: the agent API as a gateway service (the key stays with
    /// ca) and the destinations its policy allows; decisions are reported to `reports`.
    private func sandboxNetwork(for task: TaskRecord, reports: AsyncStream<SandboxNetworkEvent>.Continuation) throws(TaskError) -> SandboxNetwork {
        let policy = task.sandboxPolicy ?? SandboxPolicy()
        let access: SandboxNetwork.Access
        switch policy.network {
        case .none:
            access = .none
        case .open:
            access = .open
        case .allowlist:
            var rules: [HostRule]
            do { rules = try HostRule.parseList(policy.allowHosts) } catch { throw TaskError.invalidArgument(error.description) }
            if let repositoryHost = (try? RepositorySource(task.repositoryURL))?.networkHost { rules.insert(repositoryHost, at: 0) }
            access = .allowlist(rules)
        }
        var service = configuration.credentials.gatewayService
        if let meter = state.withLock({ $0.meter }) { service.meter = AnthropicUsageTap.gatewayMeter(meter) }
        return SandboxNetwork(access: access, services: [service]) { event in
            reports.yield(event)
        }
    }

    /// Most network decisions recorded as events for one task; later ones are counted.
    static let maximumNetworkNotes = 500

    private func recordNetworkEvents(_ events: AsyncStream<SandboxNetworkEvent>, ingestor: EventIngestor) async {
        for await event in events {
            let verb = event.decision == .allowed ? "allowed" : "denied"
            await step(ingestor, "network", "\(verb) \(event.method) \(event.host):\(event.port)\(event.reason.map { " (\($0))" } ?? "")")
        }
    }

    /// Clones the repository (or rebuilds the parent's workspace) and returns the base commit.
    private func prepareWorkspace(_ task: TaskRecord, sandbox: any Sandbox, ingestor: EventIngestor) async throws(TaskError) -> String {
        let clock = ContinuousClock.now
        let source = try RepositorySource(task.repositoryURL)
        let layout = SandboxLayout(home: sandbox.homeDirectory)
        let workspace = GitEnvironment.quote(layout.workspace)
        _ = try await shell(sandbox, "mkdir -p \([layout.agentHome, layout.configDirectory, layout.temporaryDirectory].map(GitEnvironment.quote).joined(separator: " "))",
                            what: "prepare sandbox")

        var parent: TaskRecord?
        if let parentID = task.parentID {
            do { parent = try await store.task(id: parentID) } catch { throw TaskError.store(error) }
            guard parent != nil else { throw TaskError.notResumable("parent task \(parentID) is gone") }
        }
        let branchArg = task.branch.map { " --branch \(GitEnvironment.quote($0))" } ?? ""
        await step(ingestor, "clone", "cloning \(source.displayURL)\(task.branch.map { " (\($0))" } ?? "")")
        switch source.location {
        case .remote(let url):
            // A repository on the configured GitHub gets the token as a header passed by environment.
            let credentials = configuration.github?.gitConfiguration(for: url) ?? []
            var script = "git clone --quiet\(branchArg) -- \(GitEnvironment.quote(url)) \(workspace)"
            if let review = task.github?.review, let head = state.withLock({ $0.reviewContext })?.pullRequest.head.sha {
                // The pull request's head (refs/pull/N/head), with every branch of the base there for `git diff`.
                script += " && git -C \(workspace) fetch --quiet origin +refs/pull/\(review.number)/head:refs/remotes/origin/pull/\(review.number)/head"
                    + " && git -C \(workspace) checkout --quiet --detach \(head)"
            }
            let result = try await run(sandbox, script, network: true, gitConfiguration: credentials)
            guard result.exit.succeeded else {
                throw TaskError.repositoryUnreachable(source.displayURL, redactor.redact(GitEnvironment.lastLine(of: result.stderrText) ?? result.exit.status))
            }
        case .local(let path):
            let bundle = try await LocalRepositoryBundle.create(from: path, displayURL: source.displayURL)
            try await clone(bundle: bundle, into: sandbox, branchArgument: branchArg, displayURL: source.displayURL)
        case .bundle(let id):
            // Uploaded by a client: git reads it only inside the sandbox.
            let bundle = try await RepositoryBundles(paths: configuration.paths).read(id: id, owner: task.owner, displayURL: source.displayURL)
            try await clone(bundle: bundle, into: sandbox, branchArgument: branchArg, displayURL: source.displayURL)
        }

        var base = try await shell(sandbox, "git -C \(workspace) rev-parse HEAD", what: "read base commit").stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if let parent {
            base = try await restoreParent(parent, into: sandbox, ingestor: ingestor)
        }
        _ = try? await store.update(task.id) { [base] in $0.baseCommit = base }
        await step(ingestor, "clone", "workspace at \(base.prefix(12)) in \(Self.since(clock))")
        return base
    }

    /// Clones the workspace from a git bundle written into the sandbox.
    private func clone(bundle: Data, into sandbox: any Sandbox, branchArgument: String, displayURL: String) async throws(TaskError) {
        let layout = SandboxLayout(home: sandbox.homeDirectory)
        let workspace = GitEnvironment.quote(layout.workspace)
        let remoteBundlePath = "\(layout.privateFolder)/repo.bundle"
        let remoteBundle = GitEnvironment.quote(remoteBundlePath)
        do { try await sandbox.writeFile(remoteBundlePath, contents: bundle) } catch { throw TaskError.sandbox(error) }
        let result = try await run(sandbox, "git clone --quiet\(branchArgument) \(remoteBundle) \(workspace) && git -C \(workspace) remote set-url origin \(GitEnvironment.quote(displayURL)) && rm -f \(remoteBundle)")
        guard result.exit.succeeded else {
            throw TaskError.repositoryUnreachable(displayURL, GitEnvironment.lastLine(of: result.stderrText) ?? result.exit.status)
        }
    }

    /// Puts the parent's base commit, patch and transcript into the new sandbox.
    private func restoreParent(_ parent: TaskRecord, into sandbox: any Sandbox, ingestor: EventIngestor) async throws(TaskError) -> String {
        guard let base = parent.baseCommit else { throw TaskError.notResumable("task \(parent.id) never got a workspace") }
        guard let session = parent.sessionID else { throw TaskError.notResumable("task \(parent.id) has no agent session") }
        let folder = configuration.paths.taskFolder(parent.id)
        guard let transcript = try? Data(contentsOf: folder.appendingPathComponent("transcript.jsonl")) else {
            throw TaskError.notResumable("the transcript of task \(parent.id) was not saved")
        }
        let layout = SandboxLayout(home: sandbox.homeDirectory)
        let workspace = GitEnvironment.quote(layout.workspace)
        let checkout = parent.branch.map { "git -C \(workspace) checkout --quiet -B \(GitEnvironment.quote($0)) \(base)" }
            ?? "git -C \(workspace) checkout --quiet --detach \(base)"
        _ = try await shell(sandbox, checkout, what: "check out \(base.prefix(12))")
        if let patch = try? Data(contentsOf: folder.appendingPathComponent("patch.diff")), !patch.isEmpty {
            let remotePatchPath = "\(layout.privateFolder)/parent.patch"
            let remotePatch = GitEnvironment.quote(remotePatchPath)
            do { try await sandbox.writeFile(remotePatchPath, contents: patch) } catch { throw TaskError.sandbox(error) }
            _ = try await shell(sandbox, "cd \(workspace) && git apply --binary --whitespace=nowarn \(remotePatch) && rm -f \(remotePatch)",
                                what: "apply the changes of task \(parent.id)")
            await step(ingestor, "resume", "applied the changes of task \(parent.id)")
        }
        do { try await sandbox.writeFile(layout.transcriptPath(sessionID: session), contents: transcript) } catch {
            throw TaskError.sandbox(error)
        }
        await step(ingestor, "resume", "restored session \(session)")
        return base
    }

    struct AgentRun: Sendable {
        var result: AgentResult?
        var exit: CommandExit
        var stderrTail: String?
        var sessionID: String?
    }

    private func runAgent(_ task: TaskRecord, prompt: String, sandbox: any Sandbox, ingestor: EventIngestor) async throws(TaskError) -> AgentRun {
        var resumeSession: String?
        if let parentID = task.parentID { resumeSession = (try? await store.task(id: parentID))?.sessionID }
        let invocation = AgentInvocation(
            executable: configuration.agentExecutable, prompt: prompt, model: task.model, maxTurns: task.maxTurns,
            resumeSessionID: resumeSession, credentials: configuration.credentials,
            passthroughEnvironment: configuration.passthroughEnvironment, gateway: sandbox.networkGateway,
            layout: SandboxLayout(home: sandbox.homeDirectory), maxBudgetUSD: task.maxCostUSD)
        await step(ingestor, "agent", resumeSession == nil ? "starting Claude Code" : "resuming Claude Code session \(resumeSession!)")
        // A cloud agent's output is recorded in its sandbox too, so that the task survives a restart of ca.
        let recording = task.sandboxBackend.isCloud ? AgentRecording(layout: SandboxLayout(home: sandbox.homeDirectory)) : nil
        if recording != nil { _ = try? await store.update(task.id) { $0.agentOffset = 0 } }
        let handle: CommandHandle
        do { handle = try await sandbox.start(recording.map { $0.wrap(invocation.command) } ?? invocation.command) } catch { throw TaskError.sandbox(error) }
        return try await consumeAgent(task, handle: handle, sandbox: sandbox, ingestor: ingestor, recording: recording, sessionID: resumeSession)
    }

    /// Stores the agent's output as events until its stream ends.
    private func consumeAgent(_ task: TaskRecord, handle: CommandHandle, sandbox: any Sandbox, ingestor: EventIngestor,
                              recording: AgentRecording?, sessionID: String?) async throws(TaskError) -> AgentRun {
        state.withLock { s in
            s.handle = handle
            s.agentRunning = true
            s.lastOutput = Date()
            s.readingRecordedAgent = recording != nil
        }
        defer { state.withLock { $0.agentRunning = false; $0.handle = nil } }

        var run = AgentRun(result: nil, exit: CommandExit(code: -1, status: "no exit status"), sessionID: sessionID)
        var stderr = Data()
        do {
            for try await event in handle.events {
                switch event {
                case .stdout(let chunk):
                    state.withLock { $0.lastOutput = Date() }
                    let events: [AgentEvent]
                    do { events = try await ingestor.ingest(chunk) } catch { throw TaskError.store(error) }
                    for agentEvent in events {
                        if let message = agentEvent.messageUsage, recordCost(message) {
                            // The cap was reached: stop the agent now, not at the monitor's next tick.
                            await kill(handle, in: sandbox, recorded: recording != nil)
                        }
                        for kind in agentEvent.kinds {
                            switch kind {
                            case .initialized(let session, _):
                                if let session {
                                    run.sessionID = session
                                    _ = try? await store.update(task.id) { $0.sessionID = session }
                                }
                            case .result(let result):
                                run.result = result
                                if let session = result.sessionID { run.sessionID = session }
                                state.withLock { $0.resultAt = Date() }
                            default: break
                            }
                        }
                        observer(.agent(agentEvent))
                    }
                case .stderr(let chunk):
                    state.withLock { $0.lastOutput = Date() }
                    stderr.append(chunk)
                    if stderr.count > 16_384 { stderr = stderr.suffix(8192) }
                case .exit(let exit):
                    run.exit = exit
                }
            }
        } catch let error as TaskError {
            throw error
        } catch {
            if run.result == nil && stopReason == nil && !state.withLock({ $0.detached }) {
                throw TaskError.step("lost the agent process: \(error)")
            }
        }
        // Detached: a partial last line stays unread (the next runner reads it from the recording).
        let detached = state.withLock { s -> Bool in
            s.readingRecordedAgent = false
            return s.detached
        }
        if detached { throw TaskError.step("left running for the next server start") }
        _ = try? await ingestor.finish()
        if let recording {
            // The wrapper's (or the follower's) status is not the agent's: the recording has that.
            let code = (try? await sandbox.readFile(recording.exitPath, maximumSize: 64)).flatMap(AgentRecording.exitCode)
            run.exit = code.map { CommandExit(code: $0, status: "exit status \($0)") } ?? CommandExit(code: -1, status: "the agent's end was not recorded")
        }
        run.stderrTail = GitEnvironment.lastLine(of: redactor.redact(String(decoding: stderr, as: UTF8.self)))
        return run
    }

    /// Longest the whole extraction may take; the sandbox lives at most this long past the deadline.
    static let extractionBudget: TimeInterval = 600
    /// Largest transcript saved (the transcript is what `resume` restores).
    static let maximumTranscriptSize = 64 << 20

    /// Saves the patch, the changed files and the transcript. Returns an error message, or nil.
    private func extract(_ task: TaskRecord, sandbox: any Sandbox, baseCommit: String, ingestor: EventIngestor, sessionID: String?) async -> String? {
        let clock = ContinuousClock.now
        let folder = configuration.paths.taskFolder(task.id)
        let budgetEnd = Date().addingTimeInterval(Self.extractionBudget)
        state.withLock { s in
            s.extracting = true
            s.lifetimeLimit = min(s.lifetimeLimit, budgetEnd.addingTimeInterval(60))
        }
        defer { state.withLock { $0.extracting = false } }
        // A server's clients see the events: they get no paths of the server's disk.
        await step(ingestor, "extract", task.owner == nil ? "saving changes to \(folder.path)" : "saving changes")
        var artifacts: [ArtifactRecord] = []
        var failure: String?
        do {
            let redactor = self.redactor
            let outcome = try await configuration.extractor.extract(taskID: task.id, sandbox: sandbox, baseCommit: baseCommit, into: folder,
                                                                    layout: SandboxLayout(home: sandbox.homeDirectory),
                                                                    containsSecret: { redactor.containsSecret($0) }) {
                command, what, timeout throws(TaskError) in
                let remaining = budgetEnd.timeIntervalSinceNow
                guard remaining > 1 else { throw TaskError.step("\(what): saving the changes took longer than \(Int(Self.extractionBudget)) s") }
                return try await self.runStep(sandbox, command, what: what, timeout: min(timeout, .seconds(remaining)))
            }
            artifacts = outcome.artifacts
            let flagged = artifacts.filter { $0.note == WorkspaceExtractor.secretNote }.map(\.path)
            if !flagged.isEmpty {
                await step(ingestor, "warning", "a secret (API key or token) was found in \(flagged.count == 1 ? "" : "\(flagged.count) of ")the saved changes: "
                     + flagged.prefix(10).joined(separator: ", ") + (flagged.count > 10 ? ", …" : "") + " — ca kept them as written; check before sharing")
            }
        } catch {
            failure = redactor.redact(error.description)
            await step(ingestor, "extract", "saving changes failed: \(failure!)")
        }
        if let sessionID {
            do {
                let data = try await sandbox.readFile(SandboxLayout(home: sandbox.homeDirectory).transcriptPath(sessionID: sessionID),
                                                      maximumSize: Self.maximumTranscriptSize)
                let cleaned = redactor.redactJSONLines(data)
                try SafeFileWriter(root: folder).write(cleaned, to: "transcript.jsonl")
                artifacts.append(ArtifactRecord(taskID: task.id, kind: .transcript, path: "transcript.jsonl", size: Int64(cleaned.count)))
            } catch SandboxError.limitReached {
                artifacts.append(ArtifactRecord(taskID: task.id, kind: .skipped, path: "transcript.jsonl", size: 0,
                                                note: "transcript over the \(Self.maximumTranscriptSize)-byte limit; the task cannot be resumed"))
                await step(ingestor, "extract", "no transcript saved: over the \(Self.maximumTranscriptSize)-byte limit")
            } catch {
                await step(ingestor, "extract", "no transcript saved: \(error)")
            }
        }
        _ = try? await store.replaceArtifacts(taskID: task.id, with: artifacts)
        let files = artifacts.filter { $0.kind == .file }.count
        let skipped = artifacts.filter { $0.kind == .skipped }.count
        await step(ingestor, "extract", "saved \(files) file\(files == 1 ? "" : "s")\(skipped > 0 ? ", skipped \(skipped)" : "") in \(Self.since(clock))")
        return failure
    }

    /// Runs one command registered with the monitor (so a cancel kills it) and kills it after `timeout`.
    private func runStep(_ sandbox: any Sandbox, _ command: CommandSpec, what: String, timeout: Duration) async throws(TaskError) -> CommandResult {
        let stepToken = UUID()
        let handle: CommandHandle
        do { handle = try await sandbox.start(command) } catch { throw TaskError.sandbox(error) }
        state.withLock { $0.handle = handle }
        defer { state.withLock { $0.handle = nil } }
        let outcome: Result<CommandResult, TaskError> = await withTaskGroup(of: Result<CommandResult, TaskError>?.self) { group in
            group.addTask {
                do throws(SandboxError) { return .success(try await handle.collect()) } catch { return .failure(TaskError.sandbox(error)) }
            }
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch { return nil }
                // Marked before the kill: the command's own end (killed) may be reported first.
                self.state.withLock { $0.timedOutStep = stepToken }
                try? await handle.signal(.kill)
                return .failure(TaskError.step("\(what) did not finish within \(timeout.components.seconds) s and was stopped"))
            }
            var first: Result<CommandResult, TaskError>?
            for await value in group where first == nil {
                if let value {
                    first = value
                    group.cancelAll()
                }
            }
            return first ?? .failure(TaskError.step("\(what): no result"))
        }
        if state.withLock({ $0.timedOutStep == stepToken }) {
            throw TaskError.step("\(what) did not finish within \(timeout.components.seconds) s and was stopped")
        }
        return try outcome.get()
    }

    // MARK: - Monitor

    private func monitor(taskID: String, deadline: Date, timeout: Int) async {
        var lastHeartbeat = Date.distantPast
        var lastExtension = Date()
        state.withLock { $0.lifetimeLimit = deadline.addingTimeInterval(Self.extractionBudget + 60) }
        while !Task.isCancelled, !state.withLock({ $0.detached }) {
            let now = Date()
            if now >= deadline { requestStop(.deadline(seconds: timeout)) }
            let (agentRunning, extracting, lastOutput, resultAt, handle, sandbox, lifetimeLimit) = state.withLock {
                ($0.agentRunning, $0.extracting, $0.lastOutput, $0.resultAt, $0.handle, $0.sandbox, $0.lifetimeLimit)
            }
            if agentRunning, now.timeIntervalSince(lastOutput) > TimeInterval(configuration.idleTimeout) {
                requestStop(.idle(seconds: configuration.idleTimeout))
            }
            checkBudget()
            if now.timeIntervalSince(lastHeartbeat) >= configuration.heartbeatInterval {
                lastHeartbeat = now
                if let task = try? await store.update(taskID, { $0.heartbeatAt = Date() }), task.cancelRequested {
                    requestStop(.cancelled)
                }
            }
            // Whatever runs right now (clone, agent, …) is killed once a stop was asked for, or
            // when the agent lingers after its `result`. Saving the changes goes on past the
            // deadline (it has its own budget), but not past a cancel.
            let lingering = agentRunning && (resultAt.map { now.timeIntervalSince($0) > configuration.resultGrace } ?? false)
            let stopApplies = stopReason.map { !extracting || $0.status == .cancelled } ?? false
            if let handle, stopApplies || lingering {
                let alreadyKilled = state.withLock { s -> Bool in
                    defer { s.killedHandlePID = handle.pid }
                    return s.killedHandlePID == handle.pid
                }
                if !alreadyKilled {
                    if let sandbox { await kill(handle, in: sandbox, recorded: state.withLock { $0.readingRecordedAgent }) } else { try? await handle.signal(.kill) }
                }
            }
            // The lifetime follows the work, but never past the deadline plus the extraction budget.
            if let sandbox, now.timeIntervalSince(lastExtension) > 60 {
                lastExtension = now
                let remaining = Int(lifetimeLimit.timeIntervalSince(now))
                if remaining > 0 { try? await sandbox.setLifetime(seconds: min(remaining, 3600)) }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    // MARK: - Helpers

    /// The lifetime a task's sandbox starts with (the monitor extends it as the work goes on).
    static func sandboxLifetime(for task: TaskRecord) -> Int {
        min(task.timeoutSeconds + 300, 3600)
    }

    /// Kills a running command; for a recorded (cloud) agent, which runs under a wrapper, the
    /// wrapper's whole process tree (a signal to the wrapper alone leaves the agent running).
    private func kill(_ handle: CommandHandle, in sandbox: any Sandbox, recorded: Bool) async {
        try? await handle.signal(.kill)
        if recorded { _ = try? await sandbox.run(AgentRecording(layout: SandboxLayout(home: sandbox.homeDirectory)).killTree) }
    }

    private func finish(_ started: TaskRecord, outcome: Outcome) async -> TaskRecord {
        let taskID = started.id
        let result = outcome.result
        let cost = await costOfRun(started, result: result)
        let reason = outcome.status == .succeeded ? nil : failureReason(of: outcome)
        var record = try? await store.update(taskID, durable: true) { t in
            t.status = outcome.status
            t.error = outcome.error
            t.failureReason = reason
            t.finishedAt = Date()
            t.runnerPID = nil
            t.costUSD = cost
            if let result {
                t.result = result.result
                t.sessionCostUSD = result.totalCostUSD
                t.inputTokens = result.inputTokens
                t.outputTokens = result.outputTokens
                t.numTurns = result.numTurns
                if let session = result.sessionID { t.sessionID = session }
            }
        }
        if record == nil { record = (try? await store.task(id: taskID)) ?? nil }
        hub?.publish(taskID)
        let final = record ?? TaskRecord(id: taskID, prompt: "", repositoryURL: "", sandboxBackend: SandboxKind(name: provider.name) ?? .local, timeoutSeconds: 0)
        observer(.finished(final))
        return final
    }

    func step(_ ingestor: EventIngestor, _ name: String, _ message: String) async {
        try? await ingestor.note(name, message)
        observer(.step(name: name, message: message))
    }

    private func run(_ sandbox: any Sandbox, _ script: String, network: Bool = false,
                     gitConfiguration: [(key: String, value: String)] = []) async throws(TaskError) -> CommandResult {
        var environment = GitEnvironment.variables(configuration: gitConfiguration)
        if network, let gateway = sandbox.networkGateway {
            environment.merge(GitEnvironment.proxied(through: gateway)) { _, new in new }
        }
        let handle: CommandHandle
        do { handle = try await sandbox.start(CommandSpec(shell: script, environment: environment)) } catch { throw TaskError.sandbox(error) }
        state.withLock { $0.handle = handle }
        defer { state.withLock { $0.handle = nil } }
        do { return try await handle.collect() } catch { throw TaskError.sandbox(error) }
    }

    func shell(_ sandbox: any Sandbox, _ script: String, what: String) async throws(TaskError) -> CommandResult {
        let result = try await run(sandbox, script)
        guard result.exit.succeeded else {
            throw TaskError.step("\(what) failed: \(redactor.redact(GitEnvironment.lastLine(of: result.stderrText) ?? result.exit.status))")
        }
        return result
    }

    static func since(_ start: ContinuousClock.Instant) -> String {
        let d = ContinuousClock.now - start
        return DurationFormat.elapsed(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }
}

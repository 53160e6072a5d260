import Foundation
import SandboxClient

/// `--keep-alive` in the runner: pausing the sandbox at the end, and a resume continuing in it.
extension TaskRunner {
    /// Ends the sandbox of a finished task: paused for the task's keep-alive window when it has
    /// one and left a resumable workspace (a session and a base commit), otherwise killed. A
    /// cancelled task's sandbox is always killed (the user asked for it to stop), and so is one
    /// that cannot be paused: a sandbox is never left running.
    func release(_ sandbox: any Sandbox, taskID: String, status: TaskStatus, ingestor: EventIngestor) async {
        let record = (try? await store.task(id: taskID)) ?? nil
        guard let record, let seconds = record.keepAliveSeconds, seconds > 0, provider.supportsPause,
              status != .cancelled, status != .running, stopReasonStatus != .cancelled,
              record.sessionID != nil, record.baseCommit != nil else {
            await step(ingestor, "teardown", "stopping sandbox \(sandbox.id)")
            try? await sandbox.kill()
            return
        }
        let until = Date().addingTimeInterval(TimeInterval(seconds))
        do {
            // On record first: should ca stop right here, the sandbox is still found and killed
            // when its window passes.
            try await store.recordPausedSandbox(taskID: taskID, sandboxID: sandbox.id, until: until)
        } catch {
            await step(ingestor, "teardown", "cannot record the paused sandbox (\(error)); stopping sandbox \(sandbox.id)")
            try? await sandbox.kill()
            return
        }
        do throws(SandboxError) {
            // The provider's own timeout too, in case it counts while paused.
            try await sandbox.setLifetime(seconds: seconds + KeepAlive.providerMargin)
            try await sandbox.pause()
        } catch {
            await step(ingestor, "teardown", "cannot pause sandbox \(sandbox.id) (\(redactor.redact(error.description))); stopping it")
            _ = try? await store.takePausedSandbox(taskID: taskID)
            try? await sandbox.kill()
            return
        }
        await step(ingestor, "teardown", "paused sandbox \(sandbox.id) until \(KeepAlive.clockTime(until)) (keep-alive \(DurationFormat.describe(seconds: seconds))): "
                   + "`ca task resume \(taskID)` continues in it")
    }

    private var stopReasonStatus: TaskStatus? { state.withLock { $0.stopReason?.status } }

    /// For a resume whose parent keeps its sandbox paused: claims it (atomically, so two
    /// resumes never share one), resumes it and checks that the parent's workspace is there
    /// (HEAD at the parent's base commit, the session's transcript in place). Returns the
    /// sandbox and the base commit, or `nil` to take the usual path (fresh sandbox, clone,
    /// patch); a claimed sandbox that does not pass is killed.
    func resumeKeptSandbox(_ task: TaskRecord, ingestor: EventIngestor) async throws(TaskError) -> (any Sandbox, String)? {
        guard let parentID = task.parentID, provider.supportsPause else { return nil }
        let parent: TaskRecord?
        do { parent = try await store.task(id: parentID) } catch { throw TaskError.store(error) }
        guard let parent, parent.pausedSandboxID != nil, parent.sandboxBackend == task.sandboxBackend,
              let base = parent.baseCommit, let session = parent.sessionID else { return nil }
        let claimed: TaskStore.PausedSandbox?
        do { claimed = try await store.takePausedSandbox(taskID: parent.id) } catch { throw TaskError.store(error) }
        guard let claimed else { return nil }
        guard claimed.until > Date() else {
            await step(ingestor, "sandbox", "the paused sandbox \(claimed.sandboxID) of task \(parent.id) expired at \(KeepAlive.clockTime(claimed.until)): "
                       + "starting a fresh one")
            _ = try? await provider.kill(id: claimed.sandboxID)
            return nil
        }
        await step(ingestor, "sandbox", "resuming paused sandbox \(claimed.sandboxID) of task \(parent.id) (no clone)")
        let clock = ContinuousClock.now
        let sandbox: any Sandbox
        do {
            sandbox = try await provider.resumePaused(id: claimed.sandboxID, lifetime: Self.sandboxLifetime(for: task))
        } catch {
            await step(ingestor, "sandbox", "cannot resume sandbox \(claimed.sandboxID) (\(redactor.redact(error.description))): starting a fresh one")
            _ = try? await provider.kill(id: claimed.sandboxID)
            return nil
        }
        state.withLock { $0.sandbox = sandbox }
        _ = try? await store.update(task.id) { $0.sandboxID = sandbox.id }
        if let problem = await keptWorkspaceProblem(sandbox, base: base, session: session) {
            await step(ingestor, "sandbox", "the workspace in sandbox \(sandbox.id) is not the parent's (\(problem)): starting a fresh one")
            state.withLock { $0.sandbox = nil }
            try? await sandbox.kill()
            return nil
        }
        _ = try? await store.update(task.id) { $0.baseCommit = base }
        await step(ingestor, "resume", "continuing task \(parent.id) in its sandbox: workspace at \(base.prefix(12)), session \(session) in \(Self.since(clock))")
        return (sandbox, base)
    }

    /// Why a kept sandbox cannot be used, or `nil` when its workspace is the parent's.
    private func keptWorkspaceProblem(_ sandbox: any Sandbox, base: String, session: String) async -> String? {
        let layout = SandboxLayout(home: sandbox.homeDirectory)
        let head: CommandResult
        do { head = try await shell(sandbox, "git -C \(GitEnvironment.quote(layout.workspace)) rev-parse HEAD", what: "read HEAD") } catch {
            return redactor.redact(error.description)
        }
        let found = String(head.stdoutText.prefix(100)).trimmingCharacters(in: .whitespacesAndNewlines)
        guard found == base else { return "HEAD is not \(base.prefix(12))" }
        guard let entry = try? await sandbox.stat(layout.transcriptPath(sessionID: session)), entry.kind == .file else {
            return "no transcript of session \(session)"
        }
        return nil
    }
}

import Foundation
import SandboxClient

/// Finds tasks left `queued` or `running` by a `ca` process that died, and closes them.
///
/// A runner writes a heartbeat every second. A task is orphaned when its runner's pid is gone
/// on this host, or its heartbeat is older than ``staleAfter`` (pid reused, process hung, or
/// another host). Its sandbox is killed and it is marked `failed` with the reason; its stored
/// events are kept as they are.
struct TaskRecovery: Sendable {
    /// Where candidates are read (possibly read-only).
    let store: TaskStore
    let backends: SandboxBackends
    /// Where orphans are closed: opened only when there is one.
    let writer: @Sendable () throws(TaskError) -> TaskStore
    var staleAfter: TimeInterval = 30
    /// A queued task that no runner picked up for this long is orphaned too.
    var unclaimedAfter: TimeInterval = 60

    func run() async -> [TaskRecord] {
        guard let candidates = try? await store.unfinishedTasks() else { return [] }
        let host = ProcessInfo.processInfo.hostName
        let now = Date()
        var recovered: [TaskRecord] = []
        // Parents last: their attempts closed in this pass count for them.
        for task in candidates.filter({ !$0.isAttemptParent }) + candidates.filter(\.isAttemptParent) {
            if task.isAttemptParent {
                // A best-of-N parent runs nothing: its status follows its attempts (which this
                // loop recovers like any task), also when their runners died before settling it.
                if let settled = await settle(task, now: now) { recovered.append(settled) }
                continue
            }
            guard let reason = orphanReason(task, host: host, now: now) else { continue }
            // Claim it atomically: only if nobody else changed it meanwhile.
            let snapshot = task
            guard let writable = try? writer() else { continue }
            guard let updated = try? await writable.update(task.id, durable: true, { t in
                guard !t.status.isTerminal, t.runnerPID == snapshot.runnerPID, t.heartbeatAt == snapshot.heartbeatAt else { return }
                t.status = .failed
                t.error = reason
                t.finishedAt = Date()
                t.runnerPID = nil
            }), updated.status == .failed, updated.error == reason else { continue }
            if let sandboxID = task.sandboxID, let provider = try? backends.provider(named: task.sandboxBackend) {
                _ = try? await provider.kill(id: sandboxID)
            }
            recovered.append(updated)
        }
        return recovered
    }

    /// Settles a best-of-N parent whose attempts all ended (or changed) without it following.
    private func settle(_ parent: TaskRecord, now: Date) async -> TaskRecord? {
        guard let attempts = try? await store.attempts(of: parent.id) else { return nil }
        var settled = parent
        TaskAttempts.settle(&settled, attempts: attempts, now: now)
        guard settled != parent, let writable = try? writer(), let stored = try? await writable.settleAttempts(of: parent.id).parent,
              stored.status.isTerminal else { return nil }
        return stored
    }

    func orphanReason(_ task: TaskRecord, host: String, now: Date) -> String? {
        guard let reason = runnerGone(task, host: host, now: now) else { return nil }
        // A server's cloud task whose agent runs on in its sandbox waits for a server to take
        // it over (``TaskService/claimTasksToReattach(instance:)``), but not past its deadline.
        guard Self.canReattach(task) else { return reason }
        return now < Self.reattachDeadline(task) ? nil : "no server took the task over before its deadline (\(reason))"
    }

    /// Whether a server may take the task over now: its runner is gone, and it waits for one.
    func awaitsReattach(_ task: TaskRecord, host: String, now: Date) -> Bool {
        Self.canReattach(task) && now < Self.reattachDeadline(task) && runnerGone(task, host: host, now: now) != nil
    }

    /// Until when a task that ``canReattach(_:)`` waits for a server.
    static func reattachDeadline(_ task: TaskRecord) -> Date {
        (task.startedAt ?? task.createdAt).addingTimeInterval(TimeInterval(task.timeoutSeconds) + reattachGrace)
    }

    /// How long past its deadline a cloud task may wait for a server to re-attach (the agent
    /// is stopped at the deadline; saving the changes has its own budget).
    static let reattachGrace: TimeInterval = TaskRunner.extractionBudget + 120

    /// Whether a task left `running` by a stopped server can be taken over: a cloud task whose
    /// agent was started with its output recorded in the sandbox (see ``AgentRecording``).
    static func canReattach(_ task: TaskRecord) -> Bool {
        task.status == .running && task.sandboxBackend.isCloud && task.queuedBy != nil
            && task.agentOffset != nil && task.sandboxID != nil && task.baseCommit != nil
    }

    /// Why the task's runner is gone, or `nil` while it is alive (or the task still waits for one).
    func runnerGone(_ task: TaskRecord, host: String, now: Date) -> String? {
        if let pid = task.runnerPID {
            if task.runnerHost == host || task.runnerHost == nil, !Self.isAlive(pid) {
                return "the ca process running this task (pid \(pid)) stopped unexpectedly"
            }
            if let beat = task.heartbeatAt, now.timeIntervalSince(beat) > staleAfter {
                return "the ca process running this task (pid \(pid)) stopped responding \(Int(now.timeIntervalSince(beat)))s ago"
            }
            return nil
        }
        // A task in a server's queue waits for that server, however long it is down (a
        // restarted server takes over its queue); `ca task cancel` can still end it.
        if task.status == .queued, task.queuedBy != nil { return nil }
        if task.status == .queued, now.timeIntervalSince(task.createdAt) > unclaimedAfter {
            return "no ca process picked up this task"
        }
        if task.status == .running {
            return "the ca process running this task stopped unexpectedly"
        }
        return nil
    }

    /// Whether a process exists and is not a zombie (a killed runner whose parent has not reaped it).
    static func isAlive(_ pid: Int) -> Bool {
        guard kill(pid_t(pid), 0) == 0 || errno == EPERM else { return false }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            if state == "Z" || state == "X" { return false }
        }
        return true
    }
}

import AgentCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The server's queue: runs at most ``ServerConfiguration/maxConcurrent`` tasks at once, in
/// the order they came (FIFO, from the store), and keeps this server instance's heartbeat so
/// that crash recovery knows its queue is alive.
///
/// On start it takes over the queues of server instances that are gone, so queued tasks survive
/// a restart. On graceful shutdown (SIGTERM, SIGINT) it stops taking tasks (the API answers 503),
/// gives running tasks ``ServerConfiguration/shutdownGrace`` to end, then stops the rest.
public final class TaskQueue: Service, Sendable {
    private struct State {
        var draining = false
        var finished = false
        var runners: [String: TaskRunner] = [:]
    }

    /// This server instance (a new id each start).
    public let instanceID: String
    private let service: TaskService
    private let configuration: ServerConfiguration
    private let metrics: ServerMetrics
    private let logger: Logger
    private let state = Mutex(State())
    private static let wakeKey = "ca.queue"
    /// How often a running server looks for cloud tasks that other instances left running.
    static let reattachScanInterval: Duration = .seconds(15)

    public init(service: TaskService, configuration: ServerConfiguration, metrics: ServerMetrics, logger: Logger) {
        self.instanceID = "serve-" + String(UUID().uuidString.lowercased().prefix(13))
        self.service = service
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    /// Whether the server stopped taking tasks (graceful shutdown).
    public var isDraining: Bool { state.withLock { $0.draining } }
    /// Tasks this queue runs now.
    public var runningCount: Int { state.withLock { $0.runners.count } }

    /// A task was queued (or a slot freed): look at the queue now.
    public func wake() { service.hub.publish(Self.wakeKey) }

    public func run() async throws {
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        let host = ProcessInfo.processInfo.hostName
        let store = try service.writableStore()
        try await store.save(instance: ServerInstanceRecord(id: instanceID, pid: pid, host: host))
        let adopted = try await store.adoptQueuedTasks(to: instanceID, staleBefore: Date().addingTimeInterval(-30))
        if adopted > 0 { logger.info("took over \(adopted) queued task(s) from a previous server") }
        // Cloud tasks whose agents ran on while no server watched: claimed before recovery
        // looks, so it never fails them.
        let reattaching = await service.claimTasksToReattach(instance: instanceID)
        if !reattaching.isEmpty { logger.info("re-attaching to \(reattaching.count) cloud task(s) left running") }
        await service.recoverOrphans()
        await expirePausedSandboxes()

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.heartbeat(store: store, pid: pid, host: host) }
                for task in reattaching { group.addTask { await self.runTask(task, reattach: true) } }
                var lastScan = ContinuousClock.now
                while !self.isDraining {
                    let version = self.service.hub.version(of: Self.wakeKey)
                    // Cloud tasks another server instance let go of (or lost) while this one runs.
                    if ContinuousClock.now - lastScan >= Self.reattachScanInterval {
                        lastScan = ContinuousClock.now
                        await self.expirePausedSandboxes()
                        for task in await self.service.claimTasksToReattach(instance: self.instanceID) {
                            self.logger.info("re-attaching to cloud task \(task.id), left running by another server")
                            group.addTask { await self.runTask(task, reattach: true) }
                        }
                    }
                    while !self.isDraining, let task = try? await store.claimNextQueued(
                        instance: self.instanceID, pid: pid, host: host, maximumRunning: self.configuration.maxConcurrent,
                        maximumPerOwner: self.configuration.maxRunningPerKey) {
                        group.addTask { await self.runTask(task) }
                    }
                    await self.service.hub.waitForChange(of: Self.wakeKey, after: version, timeout: .seconds(1))
                }
                await self.drain()
                self.state.withLock { $0.finished = true }
                await group.waitForAll()
            }
        } onGracefulShutdown: {
            self.state.withLock { $0.draining = true }
            self.wake()
        }
        var stopped = ServerInstanceRecord(id: instanceID, pid: pid, host: host)
        stopped.stoppedAt = Date()
        try? await store.save(instance: stopped)
        await service.shutdown()
    }

    /// Kills the paused sandboxes (`--keep-alive`) whose window has passed.
    private func expirePausedSandboxes() async {
        for paused in await service.expirePausedSandboxes() {
            logger.info("killed paused sandbox \(paused.sandboxID) of task \(paused.taskID): its keep-alive window has passed")
        }
    }

    private func runTask(_ task: TaskRecord, reattach: Bool = false) async {
        let runner: TaskRunner
        do { runner = try service.makeRunner(for: task) } catch {
            logger.error("cannot run task \(task.id): \(error.description)")
            _ = try? await service.writableStore().update(task.id, durable: true) { t in
                t.status = .failed; t.error = error.description; t.finishedAt = Date(); t.runnerPID = nil
            }
            if let parentID = task.attemptOf { _ = try? await service.writableStore().settleAttempts(of: parentID) }
            wake()
            return
        }
        state.withLock { $0.runners[task.id] = runner }
        let started = ContinuousClock.now
        let done = reattach ? await runner.reattach(task) : await runner.run(taskID: task.id)
        let elapsed = ContinuousClock.now - started
        if done.status.isTerminal {
            metrics.taskFinished(status: done.status, duration: elapsed)
        }
        state.withLock { $0.runners[task.id] = nil }
        logger.info("task \(task.id) \(done.status.rawValue)")
        wake()
        // The slot is free already; a slow webhook receiver holds up nothing else.
        await runner.notify(done)
        if let parent = runner.endedParent { await runner.notify(parent) }
    }

    /// Gives running tasks the grace period, then stops them.
    private func drain() async {
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while runningCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(200))
        }
        let left = state.withLock { Array($0.runners.values) }
        if !left.isEmpty { logger.info("stopping \(left.count) running task(s) after the shutdown grace period") }
        // Cloud agents run on in their sandboxes for the next start; the rest are stopped.
        for runner in left where !runner.detach() { runner.requestStop(.serverShutdown) }
    }

    private func heartbeat(store: TaskStore, pid: Int, host: String) async {
        var record = ServerInstanceRecord(id: instanceID, pid: pid, host: host)
        while !state.withLock({ $0.finished }) {
            record.heartbeatAt = Date()
            try? await store.save(instance: record)
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

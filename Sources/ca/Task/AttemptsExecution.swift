import AgentCore
import Foundation

/// Runs the attempts of a best-of-N task (`--attempts N`) in this process, all at once, each
/// with its own runner and sandbox; a signal stops them all. The parent's status follows its
/// attempts (the runners settle it, see ``TaskAttempts``).
struct AttemptsExecution {
    let service: TaskService
    let console: Console?

    /// Runs every queued attempt of `parent` and returns the settled parent, and the runners (to
    /// post the parent's webhook with ``notify(_:)`` once the outcome was reported).
    func run(_ parent: TaskRecord) async throws(TaskError) -> (final: TaskRecord, runners: [TaskRunner]) {
        let attempts: [TaskRecord]
        do { attempts = try await service.store.attempts(of: parent.id) } catch { throw TaskError.store(error) }
        var runs: [(attempt: TaskRecord, runner: TaskRunner, printer: ProgressPrinter?)] = []
        do {
            for attempt in attempts {
                let printer = console.map { ProgressPrinter(console: $0, task: attempt, prefix: "[\(attempt.attempt ?? 0)] ") }
                let runner = try service.makeRunner(for: attempt, observer: { progress in printer?.handle(progress) })
                runs.append((attempt, runner, printer))
            }
        } catch {
            await fail(attempts, parent: parent, error: error)
            throw error
        }
        if let console, let first = attempts.first {
            if let notice = service.backends.defaultNotice(for: first), !console.json { console.notice(notice) }
            if !console.json { console.out(console.style("task \(parent.id)", "1") + console.style(" · \(attempts.count) attempts", "2")) }
        }
        let runners = runs.map(\.runner)
        await SignalTrap.whileRunning(onStop: { sig in
            for runner in runners { runner.requestStop(sig == SIGINT ? .interrupted : .cancelled) }
        }) {
            await withTaskGroup(of: Void.self) { group in
                for run in runs {
                    group.addTask {
                        run.printer?.begin(backendNotice: nil)
                        _ = await run.runner.run(taskID: run.attempt.id)
                        await run.printer?.end()
                    }
                }
            }
        }
        let writer = try service.writableStore()
        let final: TaskRecord
        do { final = try await writer.settleAttempts(of: parent.id).parent } catch { throw TaskError.store(error) }
        return (final, runners)
    }

    /// Posts the parent's webhook, from the runner whose attempt ended it.
    static func notify(_ runners: [TaskRunner]) async {
        for runner in runners {
            if let parent = runner.endedParent { await runner.notify(parent) }
        }
    }

    /// Ends attempts that could not start (and so the parent) with the reason.
    private func fail(_ attempts: [TaskRecord], parent: TaskRecord, error: TaskError) async {
        guard let writer = try? service.writableStore() else { return }
        for attempt in attempts {
            _ = try? await writer.update(attempt.id, durable: true) { t in
                guard !t.status.isTerminal else { return }
                t.status = .failed; t.error = "could not start: \(error.description)"; t.finishedAt = Date()
            }
        }
        _ = try? await writer.settleAttempts(of: parent.id)
    }
}

import AgentCore
import ArgumentParser
import CAClient
import Foundation

/// Runs a freshly created task in the foreground, or hands it to a background process; for a
/// server's task, follows it (or, detached, just names it).
struct TaskExecution {
    let context: TaskContext

    func start(_ task: TaskRecord, detach: Bool) async throws {
        switch context.place {
        case .local(let local): try await startLocal(task, detach: detach, local: local)
        case .remote(let client): try await startRemote(task, detach: detach, client: client)
        }
    }

    private func startLocal(_ task: TaskRecord, detach: Bool, local: CommandContext) async throws {
        let console = context.console
        if detach {
            do {
                try DetachedLauncher.spawn(taskID: task.id, logFolder: local.service.paths.logs)
            } catch {
                _ = try? await local.service.store.update(task.id) { t in
                    t.status = .failed; t.error = "could not start a background ca process: \(error)"; t.finishedAt = Date()
                }
                throw console.fail(TaskError.step("could not start a background ca process: \(error)"))
            }
            printStarted((try? await local.service.resolve(task.id)) ?? task)
            return
        }
        if task.isAttemptParent {
            let (final, runners) = try await context.attempt { () throws(TaskError) in
                try await AttemptsExecution(service: local.service, console: console).run(task)
            }
            let attempts = try await context.attempt { () throws(TaskError) in try await local.service.attempts(final.id) }
            reportAttempts(final, attempts: attempts)
            await AttemptsExecution.notify(runners)
            throw CAExitCode.forStatus(final.status).exitCode
        }
        let printer = ProgressPrinter(console: console, task: task)
        let runner = try await context.attempt { () throws(TaskError) in
            try local.service.makeRunner(for: task, observer: { printer.handle($0) })
        }
        printer.begin(backendNotice: local.service.backends.defaultNotice(for: task))
        let final = await SignalTrap.whileRunning(runner) { await runner.run(taskID: task.id) }
        await printer.end()
        let artifacts = (try? await local.service.store.artifacts(taskID: final.id)) ?? []
        report(final, artifacts: artifacts)
        await runner.notify(final)
        throw CAExitCode.forStatus(final.status).exitCode
    }

    /// A server runs the task: follow its events until it ends (Ctrl-C cancels it on the
    /// server), then fetch its patch and files into the local task folder.
    private func startRemote(_ task: TaskRecord, detach: Bool, client: RemoteTaskClient) async throws {
        let console = context.console
        if detach {
            printStarted(task)
            return
        }
        let printer = ProgressPrinter(console: console, task: task)
        printer.begin(backendNotice: nil)
        // Ctrl-C asks the server to cancel; the follow ends when the server reports the task ended.
        let (stops, stop) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let ended: Result<TaskRecord?, any Error> = await SignalTrap.whileRunning(onStop: { _ in stop.yield() }) {
            await withTaskGroup(of: Result<TaskRecord?, any Error>?.self) { group in
                group.addTask {
                    for await _ in stops {
                        _ = try? await client.cancel(task.id)
                        break
                    }
                    return nil
                }
                group.addTask {
                    do {
                        for try await item in client.followEvents(task.id, after: 0) {
                            switch item {
                            case .event(let event): printer.handle(event)
                            case .finished(let record): return .success(record)
                            case .idle: break
                            }
                        }
                        return .success(nil)
                    } catch {
                        return .failure(error)
                    }
                }
                var outcome: Result<TaskRecord?, any Error> = .success(nil)
                for await value in group {
                    guard let value else { continue }
                    outcome = value
                    stop.finish()
                    group.cancelAll()
                }
                return outcome
            }
        }
        await printer.end()
        let final: TaskRecord
        switch ended {
        case .success(let record?): final = record
        case .success(nil): final = try await context.attempt { () throws(TaskError) in try await client.resolve(task.id) }
        case .failure(let error): throw console.fail(error)
        }
        if task.isAttemptParent {
            // The attempts' changes stay on the server until one is asked for (--attempt K).
            let attempts = try await context.attempt { () throws(TaskError) in try await client.attempts(final.id) }
            reportAttempts(final, attempts: attempts)
            throw CAExitCode.forStatus(final.status).exitCode
        }
        var artifacts: [ArtifactRecord] = []
        do {
            artifacts = try await client.download(final, into: context.paths).artifacts
        } catch {
            console.notice("could not fetch the task's files from the server: \(error.description)")
        }
        try finish(final, artifacts: artifacts)
    }

    private func printStarted(_ task: TaskRecord) {
        if context.console.json {
            context.console.printJSON(JSONOutput.TaskBody(task, paths: context.paths))
        } else {
            context.console.out(task.id)
        }
    }

    /// Prints the outcome of a best-of-N task: the parent and each attempt.
    private func reportAttempts(_ final: TaskRecord, attempts: [TaskAttemptView]) {
        let console = context.console
        if console.json {
            console.printJSON(JSONOutput.TaskBody(final, paths: context.paths, attempts: attempts))
            return
        }
        let printer = TaskPrinter(console: console, paths: context.paths)
        printer.summary(final, artifacts: [])
        printer.attempts(attempts)
        console.out(console.style("pick one: ca task diff \(final.id) --attempt K · ca task apply \(final.id) --attempt K", "2"))
    }

    /// Prints the outcome and exits with the task's exit code.
    private func finish(_ final: TaskRecord, artifacts: [ArtifactRecord]) throws {
        report(final, artifacts: artifacts)
        throw CAExitCode.forStatus(final.status).exitCode
    }

    /// Prints the outcome.
    private func report(_ final: TaskRecord, artifacts: [ArtifactRecord]) {
        if context.console.json {
            context.console.printJSON(JSONOutput.TaskBody(final, paths: context.paths))
        } else {
            TaskPrinter(console: context.console, paths: context.paths).summary(final, artifacts: artifacts)
        }
    }
}

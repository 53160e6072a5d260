import AgentCore
import ArgumentParser
import Foundation

/// Runs a freshly created task in the foreground, or hands it to a background process.
struct TaskExecution {
    let context: CommandContext

    func start(_ task: TaskRecord, detach: Bool) async throws {
        let console = context.console
        if detach {
            do {
                try DetachedLauncher.spawn(taskID: task.id, logFolder: context.service.paths.logs)
            } catch {
                _ = try? await context.service.store.update(task.id) { t in
                    t.status = .failed; t.error = "could not start a background ca process: \(error)"; t.finishedAt = Date()
                }
                throw console.fail(TaskError.step("could not start a background ca process: \(error)"))
            }
            if console.json {
                console.printJSON(JSONOutput.TaskBody((try? await context.service.resolve(task.id)) ?? task, paths: context.service.paths))
            } else {
                console.out(task.id)
            }
            return
        }
        let printer = ProgressPrinter(console: console, task: task)
        let runner = try await context.attempt { () throws(TaskError) in
            try context.service.makeRunner(for: task, observer: { printer.handle($0) })
        }
        printer.begin(backendNotice: context.service.backends.defaultNotice(for: task))
        let final = await SignalTrap.whileRunning(runner) { await runner.run(taskID: task.id) }
        await printer.end()
        if console.json {
            console.printJSON(JSONOutput.TaskBody(final, paths: context.service.paths))
        } else {
            let artifacts = (try? await context.service.store.artifacts(taskID: final.id)) ?? []
            TaskPrinter(console: console, paths: context.service.paths).summary(final, artifacts: artifacts)
        }
        throw CAExitCode.forStatus(final.status).exitCode
    }
}

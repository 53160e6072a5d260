import AgentCore
import ArgumentParser
import Foundation

/// What every command needs: the task service, and a uniform way to fail.
struct CommandContext {
    let service: TaskService
    let output: OutputOptions
    let console: Console

    /// Opens the store and recovers tasks whose runner died.
    /// - Parameter access: `.readOnly` for commands that only show things: they then write
    ///   nothing (unless recovery has a task to close).
    static func open(_ output: OutputOptions, access: TaskStore.Access = .readWrite) async throws -> CommandContext {
        let console = Console(json: output.json)
        do {
            let service = try TaskService(environment: environment, access: access)
            for task in await service.recoverOrphans() {
                if task.isAttemptParent {
                    // A best-of-N parent closed after its attempts: it follows them, it did not fail itself.
                    console.notice("task \(task.id) \(task.status) (its attempts ended)")
                } else {
                    console.notice("task \(task.id) was marked failed: \(task.error ?? "runner died")")
                }
            }
            // Paused sandboxes (--keep-alive) are never left past their window.
            for paused in await service.expirePausedSandboxes() {
                console.notice("killed paused sandbox \(paused.sandboxID) of task \(paused.taskID): its keep-alive window has passed")
            }
            return CommandContext(service: service, output: output, console: console)
        } catch {
            throw console.fail(error)
        }
    }

    /// The process environment, plus `CA_HELPER_BIN` = this executable (which serves the network
    /// bridge inside local sandboxes) unless set.
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if environment["CA_HELPER_BIN"]?.isEmpty ?? true, let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            environment["CA_HELPER_BIN"] = executable
        }
        return environment
    }

    /// Runs a body, turning task errors into a printed message and the documented exit code.
    func attempt<T>(_ body: () async throws(TaskError) -> T) async throws -> T {
        do { return try await body() } catch { throw console.fail(error) }
    }
}

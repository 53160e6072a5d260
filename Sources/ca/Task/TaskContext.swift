import AgentCore
import ArgumentParser
import CAClient
import Foundation

/// What `ca task …` commands need: tasks from this machine's store, or from a `ca serve` when
/// `--server` or `CA_SERVER` names one (the key then comes from `CA_TOKEN`, never argv).
struct TaskContext {
    /// Where the tasks live.
    enum Place {
        case local(CommandContext)
        case remote(RemoteTaskClient)
    }

    let place: Place
    let console: Console
    let output: OutputOptions
    /// Where task folders are on this machine (remote tasks are downloaded there).
    let paths: CAPaths

    var tasks: any TaskClient {
        switch place {
        case .local(let context): return context.service
        case .remote(let client): return client
        }
    }

    var remote: RemoteTaskClient? {
        if case .remote(let client) = place { return client }
        return nil
    }

    /// Opens the context, runs `body`, and then closes it (the remote client's connections are
    /// shut down whether the body returns or throws).
    static func with<T>(_ output: OutputOptions, _ server: ServerOptions, access: TaskStore.Access = .readWrite,
                        _ body: (TaskContext) async throws -> T) async throws -> T {
        let context = try await open(output, server, access: access)
        do {
            let result = try await body(context)
            await context.remote?.shutdown()
            return result
        } catch {
            await context.remote?.shutdown()
            throw error
        }
    }

    private static func open(_ output: OutputOptions, _ server: ServerOptions, access: TaskStore.Access) async throws -> TaskContext {
        let environment = CommandContext.environment
        let chosen = server.server ?? environment["CA_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
        guard let chosen else {
            let local = try await CommandContext.open(output, access: access)
            return TaskContext(place: .local(local), console: local.console, output: output, paths: local.service.paths)
        }
        let console = Console(json: output.json)
        do {
            let url = try RemoteTaskClient.serverURL(chosen)
            let client = RemoteTaskClient(serverURL: url, token: environment["CA_TOKEN"])
            return TaskContext(place: .remote(client), console: console, output: output, paths: CAPaths.resolve(environment: environment))
        } catch {
            throw console.fail(error)
        }
    }

    /// Runs a body, turning task errors into a printed message and the documented exit code.
    func attempt<T>(_ body: () async throws(TaskError) -> T) async throws -> T {
        do { return try await body() } catch { throw console.fail(error) }
    }
}

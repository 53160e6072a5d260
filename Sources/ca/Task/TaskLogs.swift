import AgentCore
import ArgumentParser
import Foundation

/// `ca task logs ID [-f]`
struct TaskLogs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Print a task's events; -f follows a running task until it ends.",
        discussion: "With --json, prints one JSON object per event: {seq, created_at, type, subtype, data}, where data is the stream-json event as Claude Code wrote it.")

    @Argument(help: "Task id or unique id prefix.")
    var id: String

    @Flag(name: .shortAndLong, help: "Keep printing new events until the task ends.")
    var follow = false

    @OptionGroup var attempt: AttemptOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await TaskContext.with(output, server, access: .readOnly) { context in
            let task = try await attempt.resolve(id, in: context)
            let formatter = EventFormatter(console: context.console)
            let print: (EventRecord) -> Void = { event in
                if output.json {
                    let data = (try? JSONDecoder().decode(JSONValue.self, from: Data(event.payload.utf8))) ?? .string(event.payload)
                    context.console.printJSON(JSONOutput.EventLine(seq: event.sequence, created_at: event.createdAt, type: event.type, subtype: event.subtype, data: data))
                } else {
                    for line in formatter.lines(for: event) { context.console.out(line) }
                }
            }
            guard follow else {
                var last = 0
                while true {
                    let events = try await context.attempt { () throws(TaskError) in try await context.tasks.events(task.id, after: last) }
                    events.forEach(print)
                    guard let next = events.last?.sequence else { break }
                    last = next
                }
                return
            }
            // Live: every event once, in order, until the task ends (see TaskService.follow).
            do {
                for try await item in context.tasks.followEvents(task.id, after: 0) {
                    if case .event(let event) = item { print(event) }
                }
            } catch {
                throw context.console.fail(error)
            }
        }
    }
}

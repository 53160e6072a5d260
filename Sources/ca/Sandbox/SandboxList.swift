import AgentCore
import ArgumentParser
import Foundation

/// `ca sandbox list`
struct SandboxList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Show ca's live sandboxes with their task and age.")

    @OptionGroup var filter: SandboxFilter
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let context = try await CommandContext.open(output, access: .readOnly)
        let (entries, errors) = await context.service.inventory.list(backends: filter.names, allInstallations: filter.allInstallations)
        SandboxPrinter(console: context.console).print(entries, errors: errors)
        if !errors.isEmpty { throw CAExitCode.setup.exitCode }
    }
}

/// `ca sandbox gc`
struct SandboxGC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Kill ca's sandboxes whose task is finished, failed or unknown.")

    @OptionGroup var filter: SandboxFilter
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let context = try await CommandContext.open(output)
        let (killed, errors) = await context.service.inventory.collectGarbage(backends: filter.names, allInstallations: filter.allInstallations)
        if output.json {
            SandboxPrinter(console: context.console).print(killed, errors: errors)
        } else {
            for entry in killed {
                context.console.out("killed \(entry.backend) sandbox \(entry.sandbox.id) (task \(entry.taskID ?? "?") \(entry.taskStatus?.rawValue ?? "unknown"))")
            }
            if killed.isEmpty { context.console.out("nothing to collect") }
            for (where_, message) in errors.sorted(by: { $0.key < $1.key }) { context.console.err("error: \(where_): \(message)") }
        }
        if !errors.isEmpty { throw CAExitCode.setup.exitCode }
    }
}

/// Table and JSON output for sandboxes.
struct SandboxPrinter {
    let console: Console

    struct Body: Encodable {
        var backend: String
        var id: String
        var task_id: String?
        var task_status: String?
        var template: String
        var state: String
        var started_at: Date
        var expires_at: Date?
        /// Until when a task keeps it paused for a resume (`--keep-alive`); it is killed then.
        var paused_until: Date?
        /// A resumed task running in it now (made for another task of its chain).
        var used_by: String?
        var age_seconds: Int
    }

    struct ListBody: Encodable {
        var sandboxes: [Body]
        var errors: [String: String]
    }

    func print(_ entries: [SandboxInventory.Entry], errors: [String: String]) {
        let now = Date()
        if console.json {
            console.printJSON(ListBody(sandboxes: entries.map {
                Body(backend: $0.backend.rawValue, id: $0.sandbox.id, task_id: $0.taskID, task_status: $0.taskStatus?.rawValue,
                     template: $0.sandbox.template, state: $0.sandbox.state, started_at: $0.sandbox.startedAt,
                     expires_at: $0.sandbox.expiresAt, paused_until: $0.pausedUntil, used_by: $0.usedBy, age_seconds: Int(now.timeIntervalSince($0.sandbox.startedAt)))
            }, errors: errors))
            return
        }
        if entries.isEmpty { console.out("no live sandboxes") } else {
            console.out(console.style("BACKEND  SANDBOX                         TASK          TASK STATUS  STATE    AGE    KEPT UNTIL", "1"))
            for e in entries {
                // The backend's words are the sandbox's: shown only when they are a known state.
                let state = ["running", "paused"].contains(e.sandbox.state) ? e.sandbox.state : "?"
                let kept = e.pausedUntil.map { KeepAlive.clockTime($0) } ?? (e.usedBy.map { "in use by \($0)" } ?? "-")
                let cols = [e.backend.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                            e.sandbox.id.padding(toLength: 31, withPad: " ", startingAt: 0),
                            (e.taskID ?? "-").padding(toLength: 13, withPad: " ", startingAt: 0),
                            (e.taskStatus?.rawValue ?? "unknown").padding(toLength: 12, withPad: " ", startingAt: 0),
                            state.padding(toLength: 8, withPad: " ", startingAt: 0),
                            TaskPrinter.age(now.timeIntervalSince(e.sandbox.startedAt)).padding(toLength: 6, withPad: " ", startingAt: 0),
                            kept]
                console.out(cols.joined(separator: " "))
            }
        }
        for (backend, message) in errors.sorted(by: { $0.key < $1.key }) { console.err("error: \(backend): \(message)") }
    }
}

import AgentCore
import ArgumentParser
import Foundation

/// `ca keys …`: the API keys of `ca serve` (they work while the server runs).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage the API keys of ca serve.",
        subcommands: [KeysCreate.self, KeysList.self, KeysRevoke.self])
}

/// `ca keys create NAME [--admin]`
struct KeysCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Make a key; it is printed once and stored only as a hash.",
        discussion: "A key sees its own tasks; an admin key sees every task.")

    @Argument(help: "Name of the key (the owner of the tasks it creates).")
    var name: String

    @Flag(help: "Let the key see and manage every owner's tasks.")
    var admin = false

    @Option(help: ArgumentHelp("Post the end of this key's tasks to this http(s) URL unless a request names one (the server needs CA_WEBHOOK_SECRET).", valueName: "url"))
    var notify: String?

    @Option(help: ArgumentHelp("Cap the cost of this key's tasks at this many dollars unless a request names a cap.", valueName: "usd"))
    var maxCost: String?

    @OptionGroup var output: OutputOptions

    struct Body: Encodable {
        var name: String
        var admin: Bool
        var key: String
        var notify_url: String?
        var max_cost_usd: Double?
    }

    func run() async throws {
        let cap = try maxCost.map(TaskRunOptions.costCap)
        let context = try await CommandContext.open(output)
        let key = try await context.attempt { [cap] () throws(TaskError) in
            try await context.service.createKey(name: name, admin: admin, notifyURL: notify, maxCostUSD: cap)
        }
        if output.json {
            context.console.printJSON(Body(name: name, admin: admin, key: key, notify_url: notify, max_cost_usd: cap))
        } else {
            context.console.out(key)
            context.console.notice("key '\(name)'\(admin ? " (admin)" : "") created; it is shown only now")
        }
    }
}

/// `ca keys list`
struct KeysList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the keys (names, never the keys).")

    @OptionGroup var output: OutputOptions

    struct Body: Encodable {
        var name: String
        var admin: Bool
        var created_at: Date
        var revoked_at: Date?
        var notify_url: String?
        var max_cost_usd: Double?
    }

    func run() async throws {
        let context = try await CommandContext.open(output, access: .readOnly)
        let keys = try await context.attempt { () throws(TaskError) in try await context.service.keys() }
        if output.json {
            context.console.printJSON(keys.map { Body(name: $0.name, admin: $0.admin, created_at: $0.createdAt, revoked_at: $0.revokedAt,
                                                      notify_url: $0.notifyURL, max_cost_usd: $0.maxCostUSD) })
            return
        }
        if keys.isEmpty { context.console.out("no keys") }
        for key in keys {
            let state = key.revokedAt.map { "revoked \(JSONOutput.timestamp($0))" } ?? "active"
            var defaults = ""
            if let cap = key.maxCostUSD { defaults += " · cap " + CostFormat.dollars(cap) }
            if let url = key.notifyURL { defaults += " · notify " + context.console.safe(url) }
            context.console.out("\(key.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \((key.admin ? "admin" : "user").padding(toLength: 6, withPad: " ", startingAt: 0)) \(state)\(defaults)")
        }
    }
}

/// `ca keys revoke NAME`
struct KeysRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key; it stops working at once.")

    @Argument(help: "Name of the key.")
    var name: String

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let context = try await CommandContext.open(output)
        let revoked = try await context.attempt { () throws(TaskError) in try await context.service.revokeKey(name: name) }
        guard revoked else { throw context.console.fail(TaskError.invalidArgument("no active key named '\(name)'")) }
        if output.json { context.console.printJSON(["name": name, "revoked": "true"]) } else { context.console.out("key '\(name)' revoked") }
    }
}

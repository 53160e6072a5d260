import AgentCore
import ArgumentParser

/// `ca sandbox …`
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "List and clean up the sandboxes ca created.",
        subcommands: [SandboxList.self, SandboxGC.self]
    )
}

/// `--sandbox` filter shared by `list` and `gc`.
struct SandboxFilter: ParsableArguments {
    @Option(name: .customLong("sandbox"), help: "Only this backend: local, novita or e2b (default: every configured one).")
    var backend: SandboxKind?

    @Flag(help: "On cloud backends, also sandboxes started by other ca installations on the same account (a teammate's, a server's).")
    var allInstallations = false

    var names: [SandboxKind]? { backend.map { [$0] } }

}

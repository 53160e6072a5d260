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
    var backend: String?

    var names: [String]? { backend.map { [$0.lowercased()] } }

    func validate() throws {
        if let backend, !["local", "novita", "e2b"].contains(backend.lowercased()) {
            throw ValidationError("invalid --sandbox '\(backend)'; use local, novita or e2b")
        }
    }
}

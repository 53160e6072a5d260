import ArgumentParser

/// `--server`, shared by every `ca task` command.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Talk to this ca serve instead of the local store (default: $CA_SERVER). The API key comes from $CA_TOKEN.",
        valueName: "url"))
    var server: String?
}

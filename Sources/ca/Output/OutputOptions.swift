import ArgumentParser

/// `--json`, shared by every command.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON (one object, or one object per line for logs).")
    var json = false
}

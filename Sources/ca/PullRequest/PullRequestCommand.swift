import ArgumentParser

/// `ca pr …`
struct PullRequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pr",
        abstract: "Work on GitHub pull requests.",
        subcommands: [PullRequestReview.self]
    )
}

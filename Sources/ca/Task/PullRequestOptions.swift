import AgentCore
import ArgumentParser

/// `--open-pr`, `--base`, `--draft` of `create` and `resume`.
struct PullRequestOptions: ParsableArguments {
    @Flag(name: .customLong("open-pr"), help: "When the task succeeds with changes, commit them on a new branch ca/<id>, push it and open a pull request (resume: update the chain's pull request). Needs GH_TOKEN or GITHUB_TOKEN.")
    var openPullRequest = false

    @Option(help: ArgumentHelp("Branch the pull request goes into (default: --branch, else the repository's default branch).", valueName: "branch"))
    var base: String?

    @Flag(help: "Open the pull request as a draft.")
    var draft = false

    /// The options, or `nil` without `--open-pr`.
    var options: GitHubTaskOptions.OpenPullRequest? {
        openPullRequest ? GitHubTaskOptions.OpenPullRequest(base: base, draft: draft) : nil
    }

    func validate() throws {
        if !openPullRequest, base != nil || draft { throw ValidationError("--base and --draft go with --open-pr") }
    }
}

import Foundation
import SandboxClient

/// git on this machine in a throw-away folder, for ca's own commits and pushes
/// (``PullRequestPublisher``): no user or system configuration, no prompts, ca's identity, and
/// the GitHub token only as `http.<server>/.extraHeader` in the environment (never in argv, a
/// URL or a config file).
struct ScratchGit {
    let folder: URL
    let remote: String
    private let environment: [String: String]
    private let git: String

    init(folder: URL, remote: String, configuration: [(key: String, value: String)]) throws(TaskError) {
        guard let git = HostCommand.which("git", path: ProcessInfo.processInfo.environment["PATH"]) else {
            throw TaskError.missingAgent("git not found on this machine; install it with: apt-get install git")
        }
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw TaskError.step("cannot create \(folder.path): \(error.localizedDescription)")
        }
        self.git = git
        self.folder = folder
        self.remote = remote
        var environment = GitEnvironment.variables(configuration: configuration)
        environment["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        environment["HOME"] = folder.path
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        environment["LANG"] = "C"
        self.environment = environment
    }

    /// Runs git; a failure is a ``TaskError`` naming `what` with git's last line (redacted of
    /// URL credentials; the token itself is never on a line git prints).
    @discardableResult
    func run(_ arguments: [String], what: String, network: Bool = true) async throws(TaskError) -> String {
        let output = try await runAllowingFailure(arguments)
        guard output.status == 0, !output.timedOut else {
            let reason = output.timedOut ? "timed out" : (GitEnvironment.lastLine(of: output.stderrText) ?? "exit status \(output.status)")
            throw network ? TaskError.github(.unavailable, "\(what): \(RepositorySource.redactCredentials(inText: reason))")
                          : TaskError.step("\(what): \(RepositorySource.redactCredentials(inText: reason))")
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }

    /// ``run(_:what:network:)`` trimmed, for commands that print one object id.
    func output(_ arguments: [String], what: String) async throws(TaskError) -> String {
        try await run(arguments, what: what, network: false).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs git and returns whatever happened.
    func runAllowingFailure(_ arguments: [String]) async throws(TaskError) -> HostProcess.Output {
        do {
            return try await HostProcess.run(git, arguments, environment: environment, directory: folder.path,
                                             timeout: PullRequestPublisher.commandTimeout)
        } catch {
            throw TaskError.step("cannot run git: \(error.description)")
        }
    }
}

import Foundation
import SandboxClient

/// Runs `git` for the ``FakeGitHub`` on threads of their own (``HostProcess``), never blocking the
/// cooperative pool.
enum FakeGitHubGit {
    /// A git command that failed.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The environment every git run gets: a fixed identity, no prompts, no user or system config.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": NSTemporaryDirectory(),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "Fake GitHub", "GIT_AUTHOR_EMAIL": "fake@github.invalid",
            "GIT_COMMITTER_NAME": "Fake GitHub", "GIT_COMMITTER_EMAIL": "fake@github.invalid",
            "LC_ALL": "C",
        ]
        for (name, value) in extra { env[name] = value }
        return env
    }

    /// Runs `executable` with standard input read from `stdinFile` (a shell redirect, since
    /// ``HostProcess`` gives its children `/dev/null`).
    static func runProgram(_ executable: String, _ arguments: [String], environment: [String: String],
                           stdinFile: String?, timeout: Duration = .seconds(120)) async throws -> HostProcess.Output {
        if let stdinFile {
            var env = environment
            env["FAKE_GITHUB_STDIN"] = stdinFile
            return try await HostProcess.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" < \"$FAKE_GITHUB_STDIN\"", executable] + arguments,
                                             environment: env, timeout: timeout)
        }
        return try await HostProcess.run(executable, arguments, environment: environment, timeout: timeout)
    }

    /// Runs `git -C dir arguments` and returns its output whatever the status.
    static func run(_ arguments: [String], in dir: String, env: [String: String] = [:], stdinFile: String? = nil) async throws -> HostProcess.Output {
        try await runProgram("/usr/bin/env", ["git", "-C", dir] + arguments, environment: environment(env), stdinFile: stdinFile)
    }

    /// Runs git and returns its standard output; throws when it fails.
    @discardableResult
    static func output(_ arguments: [String], in dir: String, env: [String: String] = [:], stdinFile: String? = nil) async throws -> String {
        let result = try await run(arguments, in: dir, env: env, stdinFile: stdinFile)
        guard result.status == 0 else {
            throw Failure(description: "git \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderrText)")
        }
        return result.stdoutText
    }

    /// The commit `rev` names, or `nil`.
    static func resolve(_ rev: String, in dir: String) async throws -> String? {
        let result = try await run(["rev-parse", "--verify", "--quiet", rev + "^{commit}"], in: dir)
        guard result.status == 0 else { return nil }
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every ref under the given prefixes: refname → sha.
    static func refs(_ prefixes: [String], in dir: String) async throws -> [String: String] {
        let text = try await output(["for-each-ref", "--format=%(objectname) %(refname)"] + prefixes, in: dir)
        var refs: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { refs[String(parts[1])] = String(parts[0]) }
        }
        return refs
    }

    /// The path of `git-http-backend`.
    static func httpBackendPath() async throws -> String {
        let execPath = try await HostProcess.run("/usr/bin/env", ["git", "--exec-path"], environment: environment())
        guard execPath.status == 0 else { throw Failure(description: "git --exec-path failed: \(execPath.stderrText)") }
        return execPath.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) + "/git-http-backend"
    }

    /// Writes `data` to a new temporary file and returns its path.
    static func temporaryFile(_ data: Data, in folder: URL) throws -> String {
        let url = folder.appendingPathComponent("tmp-\(UUID().uuidString)")
        try data.write(to: url)
        return url.path
    }
}

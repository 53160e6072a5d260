import Foundation

/// Packs a repository on this machine into a git bundle, to be cloned inside a sandbox.
public enum LocalRepositoryBundle {
    /// `git bundle create --all` of the repository at `path`, as bytes.
    public static func create(from path: String, displayURL: String) async throws(TaskError) -> Data {
        guard let git = HostCommand.which("git", path: ProcessInfo.processInfo.environment["PATH"]) else {
            throw TaskError.missingAgent("git not found on this machine; install it with: apt-get install git")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ca-bundle-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("repo.bundle").path
        let output = try await HostCommand.run(git, ["-C", path, "bundle", "create", "--quiet", file, "--all"],
                                               environment: ["PATH": "/usr/local/bin:/usr/bin:/bin", "GIT_TERMINAL_PROMPT": "0", "HOME": NSHomeDirectory()])
        let data = output.status == 0 ? try await BlockingIO.run({ () throws(TaskError) in try? Data(contentsOf: URL(fileURLWithPath: file)) }) : nil
        guard let data else {
            let reason = GitEnvironment.lastLine(of: output.stderrText) ?? "git bundle failed"
            if reason.contains("empty bundle") { throw TaskError.repositoryUnreachable(displayURL, "the repository has no commits") }
            throw TaskError.repositoryUnreachable(displayURL, reason)
        }
        return data
    }
}

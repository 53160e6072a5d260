import Foundation
import SandboxClient

/// A real git repository for tests: a bare "remote" with one commit on `main`.
public struct GitFixture: Sendable {
    /// Folder holding everything of this fixture.
    public let root: URL
    /// The bare repository, usable as `--repo` (a path or `file://` URL).
    public let bare: URL

    /// A fixture made earlier in `root` (by ``make(in:)``).
    public init(root: URL, bare: URL) {
        self.root = root
        self.bare = bare
    }

    /// Creates `origin.git` with a README and `src/app.txt` committed on `main`, plus a `feature` branch.
    public static func make(in root: URL) throws -> GitFixture {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let bare = root.appendingPathComponent("origin.git")
        let work = root.appendingPathComponent("seed")
        try git(["init", "-q", "--bare", "-b", "main", bare.path])
        try git(["init", "-q", "-b", "main", work.path])
        try Data("# Demo\n".utf8).write(to: work.appendingPathComponent("README.md"))
        try FileManager.default.createDirectory(at: work.appendingPathComponent("src"), withIntermediateDirectories: true)
        try Data("version 1\n".utf8).write(to: work.appendingPathComponent("src/app.txt"))
        try git(["-C", work.path, "add", "-A"])
        try git(["-C", work.path, "commit", "-q", "-m", "initial"])
        try git(["-C", work.path, "checkout", "-q", "-b", "feature"])
        try Data("feature work\n".utf8).write(to: work.appendingPathComponent("FEATURE.md"))
        try git(["-C", work.path, "add", "-A"])
        try git(["-C", work.path, "commit", "-q", "-m", "feature"])
        try git(["-C", work.path, "push", "-q", bare.path, "main", "feature"])
        return GitFixture(root: root, bare: bare)
    }

    /// The commit a branch of the bare repository points at.
    public func head(_ branch: String = "main") throws -> String {
        try Self.git(["-C", bare.path, "rev-parse", branch]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Runs git and returns its output (blocking the calling thread; see ``HostProcess``).
    @discardableResult
    public static func git(_ arguments: [String]) throws -> String {
        var env = ProcessInfo.processInfo.environment
        env["GIT_AUTHOR_NAME"] = "Test"; env["GIT_AUTHOR_EMAIL"] = "test@example.com"
        env["GIT_COMMITTER_NAME"] = "Test"; env["GIT_COMMITTER_EMAIL"] = "test@example.com"
        let output = try HostProcess.start("/usr/bin/env", ["git"] + arguments, environment: env).waitBlocking(timeout: .seconds(120))
        guard output.status == 0 else {
            throw Failure(description: "git \(arguments.joined(separator: " ")) failed: \(output.stderrText)")
        }
        return output.stdoutText
    }
}

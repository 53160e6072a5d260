import Foundation
import SandboxClient

/// `ca task apply`: puts a task's patch into a git checkout on this machine with `git apply`.
///
/// It refuses, changing nothing, when the folder is not a git checkout, when the checkout does
/// not hold the task's base commit (another repository, or one that needs a fetch), or when the
/// patch does not apply (a conflict with local changes; `threeWay` tries a three-way merge
/// first, and leaves the files it cannot merge with conflict markers, as git does). `git apply` itself never writes outside the checkout (no `..`, nothing through a
/// symbolic link). Symbolic links the task recorded are left out and reported, never created.
public struct PatchApplier: Sendable {
    /// What applying did (or, with `check`, would do).
    public struct Outcome: Sendable, Hashable {
        /// The checkout's top folder.
        public var root: String
        /// Paths the patch changes (symbolic links left out), as `git apply --numstat` names them.
        public var paths: [String]
        /// Symbolic links of the patch that were not created.
        public var skippedLinks: [String]
        /// Whether the working tree was changed (false with `check`, or for an empty patch).
        public var applied: Bool
        /// With `threeWay`: files left with conflict markers (and unmerged in the index), as
        /// `git apply --3way` leaves them, for the user to resolve.
        public var conflicts: [String] = []
    }

    /// Longest one git command may take.
    static let commandTimeout: Duration = .seconds(120)

    public init() {}

    /// Applies `patch` (a task's `patch.diff`) to the checkout at `directory`.
    /// - Parameters:
    ///   - baseCommit: The task's base commit, which the checkout must hold.
    ///   - links: Paths the task recorded as symbolic links (left out of the patch).
    public func apply(_ patch: Data, baseCommit: String?, links: [String], to directory: String, check: Bool,
                      threeWay: Bool) async throws(TaskError) -> Outcome {
        guard let git = HostCommand.which("git", path: ProcessInfo.processInfo.environment["PATH"]) else {
            throw TaskError.missingAgent("git not found on this machine; install it with: apt-get install git")
        }
        let top = try await run(git, ["-C", directory, "rev-parse", "--show-toplevel"])
        guard top.status == 0 else { throw TaskError.applyRefused("\(directory) is not a git checkout") }
        let root = String(decoding: top.stdout, as: UTF8.self).trimmingCharacters(in: .newlines)
        guard let baseCommit, PullRequestPublisher.isObjectID(baseCommit) else {
            throw TaskError.applyRefused("the task has no base commit to apply its changes onto")
        }
        let base = try await run(git, ["-C", root, "cat-file", "-e", "\(baseCommit)^{commit}"])
        guard base.status == 0 else {
            throw TaskError.applyRefused("\(root) does not hold the task's base commit \(baseCommit.prefix(12)): it is another repository, "
                                         + "or it needs a `git fetch` first")
        }
        guard !patch.isEmpty else { return Outcome(root: root, paths: [], skippedLinks: [], applied: false) }

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ca-apply-\(UUID().uuidString).diff")
        do { try patch.write(to: file, options: .atomic) } catch { throw TaskError.step("cannot write \(file.path): \(error.localizedDescription)") }
        defer { try? FileManager.default.removeItem(at: file) }

        // `--exclude` takes glob patterns: a link's path is matched literally.
        let excludes = links.map { "--exclude=" + Self.literalPattern($0) }
        let common = ["-C", root, "apply", "--binary", "--whitespace=nowarn"] + (threeWay ? ["--3way"] : []) + excludes
        let numstat = try await run(git, ["-C", root, "apply", "--numstat", "-z"] + excludes + [file.path])
        let paths = Self.numstatPaths(numstat.stdout)
        let dryRun = try await run(git, common + ["--check", file.path])
        guard dryRun.status == 0 else {
            throw TaskError.applyRefused("the changes do not apply to \(root)\(threeWay ? "" : " (try --3way)"), nothing was changed: "
                                         + Self.reason(dryRun.stderr))
        }
        guard !check else { return Outcome(root: root, paths: paths, skippedLinks: links, applied: false) }
        let applied = try await run(git, common + [file.path])
        guard applied.status == 0 else {
            // A three-way apply that met conflicts has applied the rest and marked those files.
            if threeWay {
                let unmerged = try await run(git, ["-C", root, "diff", "--name-only", "--diff-filter=U", "-z"])
                let conflicts = unmerged.stdout.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if !conflicts.isEmpty { return Outcome(root: root, paths: paths, skippedLinks: links, applied: true, conflicts: conflicts) }
            }
            throw TaskError.applyRefused("git apply failed in \(root): " + Self.reason(applied.stderr))
        }
        return Outcome(root: root, paths: paths, skippedLinks: links, applied: true)
    }

    private func run(_ git: String, _ arguments: [String]) async throws(TaskError) -> HostProcess.Output {
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["LC_ALL"] = "C"
        do { return try await HostProcess.run(git, arguments, environment: environment, timeout: Self.commandTimeout) } catch {
            throw TaskError.step("cannot run git: \(error.description)")
        }
    }

    /// git's last lines (what failed and why), bounded.
    static func reason(_ stderr: Data) -> String {
        let lines = String(decoding: stderr.prefix(16_384), as: UTF8.self).split(whereSeparator: \.isNewline).suffix(3)
        return lines.isEmpty ? "git apply failed" : lines.joined(separator: "; ")
    }

    /// The paths of `git apply --numstat -z` output (`added\tdeleted\tpath\0`, or for a rename
    /// `added\tdeleted\t\0old\0new\0`).
    static func numstatPaths(_ output: Data) -> [String] {
        var paths: [String] = []
        var fields = output.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }[...]
        while let record = fields.popFirst(), !record.isEmpty {
            let parts = record.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[2].isEmpty {
                _ = fields.popFirst()
                if let new = fields.popFirst() { paths.append(new) }
            } else {
                paths.append(String(parts[2]))
            }
        }
        return paths
    }

    /// `path` as a glob pattern that matches only itself.
    static func literalPattern(_ path: String) -> String {
        var pattern = ""
        for c in path {
            if "*?[]\\".contains(c) { pattern.append("\\") }
            pattern.append(c)
        }
        return pattern
    }
}

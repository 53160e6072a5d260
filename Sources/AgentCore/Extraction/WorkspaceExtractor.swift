import Foundation
import SandboxClient

/// Copies what the agent changed out of a sandbox into the task's folder.
///
/// Everything that comes out of the sandbox is untrusted, so:
/// - the patch and the file contents come from git objects (`git add -A` into a fresh index,
///   then `git diff` and `git cat-file`), never by following paths in the workspace, so a
///   symbolic link the agent left cannot make ca read a file outside the repository;
/// - git runs without the user's or the system's configuration, without hooks, fsmonitor,
///   automatic gc, filters, text conversion or external diff programs, whatever the
///   repository's own `.git/config` and `.gitattributes` say, so the agent cannot make it run
///   programs or hang (and every step has a timeout besides);
/// - every size is checked on this side while reading (the patch, the change list, each batch
///   of file contents), never taken from a number computed inside the sandbox;
/// - files are written with ``SafeFileWriter``, so nothing lands outside `<task folder>/files`.
public struct WorkspaceExtractor: Sendable {
    /// Largest single file copied to `files/`.
    public var maximumFileSize: Int
    /// Largest total of copied files.
    public var maximumTotalSize: Int
    /// Largest patch saved.
    public var maximumPatchSize: Int
    /// Largest list of changes read (`git diff --raw -z`), and most changes considered.
    public var maximumChangeListSize: Int
    public var maximumChanges: Int
    /// Longest any one extraction command may run.
    public var stepTimeout: Duration

    public init(maximumFileSize: Int = 20 << 20, maximumTotalSize: Int = 256 << 20, maximumPatchSize: Int = 64 << 20,
                maximumChangeListSize: Int = 16 << 20, maximumChanges: Int = 100_000, stepTimeout: Duration = .seconds(300)) {
        self.maximumFileSize = maximumFileSize
        self.maximumTotalSize = maximumTotalSize
        self.maximumPatchSize = maximumPatchSize
        self.maximumChangeListSize = maximumChangeListSize
        self.maximumChanges = maximumChanges
        self.stepTimeout = stepTimeout
    }

    /// Runs one extraction command in the sandbox and collects its output; the task runner
    /// registers it so that `ca task cancel` stops it, and kills it after `timeout`.
    public typealias CommandRunner = @Sendable (_ command: CommandSpec, _ what: String, _ timeout: Duration) async throws(TaskError) -> CommandResult

    /// What was saved.
    public struct Outcome: Sendable {
        public var artifacts: [ArtifactRecord]
        /// The patch, when one was saved (empty when nothing changed).
        public var patch: Data?
    }

    /// Reads of file contents are batched so that at most this much is in memory at once.
    static let batchSize = 32 << 20

    /// `git` with every configurable way of running other programs, or of changing what is
    /// read, turned off (command-line `-c` wins over the repository's `.git/config`).
    static let git = [
        "git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "gc.auto=0", "-c", "maintenance.auto=false",
        "-c", "core.autocrlf=false", "-c", "core.safecrlf=false", "-c", "core.eol=lf", "-c", "core.untrackedCache=false",
        "-c", "core.sparseCheckout=false", "-c", "core.splitIndex=false", "-c", "core.quotepath=off", "-c", "core.attributesFile=/dev/null",
        "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false", "-c", "diff.relative=false", "-c", "core.symlinks=true",
    ].joined(separator: " ")

    /// The environment of extraction commands: no global or system configuration, a private
    /// index, no optional locks, no prompts.
    static func environment(out: String) -> [String: String] {
        GitEnvironment.variables.merging([
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_ATTR_NOSYSTEM": "1", "GIT_OPTIONAL_LOCKS": "0",
            "GIT_INDEX_FILE": "\(out)/index", "GIT_NO_REPLACE_OBJECTS": "1", "GIT_EXTERNAL_DIFF": "", "GIT_DIFF_OPTS": "",
        ]) { _, new in new }
    }

    /// Extracts the changes since `baseCommit` into `folder`.
    /// Note given to saved files (and the patch) in which a secret was found.
    public static let secretNote = "contains a secret (an API key or token); kept as the agent wrote it — check before sharing"

    /// - Parameter containsSecret: whether saved content holds a secret; such files and patches
    ///   are kept (they are what the agent wrote) but flagged with ``secretNote``.
    public func extract(taskID: String, sandbox: any Sandbox, baseCommit: String, into folder: URL, layout: SandboxLayout = .standard,
                        containsSecret: @Sendable (Data) -> Bool = { _ in false }, run: CommandRunner) async throws(TaskError) -> Outcome {
        let outPath = layout.extractionFolder
        let out = GitEnvironment.quote(outPath)
        let run: CommandRunner = { command, what, timeout throws(TaskError) in
            var command = command
            command.cwd = layout.workspace
            command.environment = Self.environment(out: outPath)
            return try await run(command, what, timeout)
        }
        guard baseCommit.count == 40 || baseCommit.count == 64, baseCommit.allSatisfy(\.isHexDigit) else {
            throw TaskError.step("the base commit '\(baseCommit.prefix(80))' is not a commit id")
        }
        // The repository's own attributes cannot switch filters or conversions back on: the
        // highest-priority attributes file unsets them for every path.
        let script = """
        set -e
        rm -rf \(out) && mkdir -p \(out)
        attributes=$(\(Self.git) rev-parse --git-path info/attributes)
        rm -rf "$attributes" && mkdir -p "$(dirname "$attributes")"
        printf '* -filter -text -ident -working-tree-encoding -export-subst\\n' > "$attributes"
        \(Self.git) read-tree \(baseCommit)
        \(Self.git) add -A -- . >/dev/null
        \(Self.git) diff --cached --binary --full-index --no-renames --no-ext-diff --no-textconv --no-color --src-prefix=a/ --dst-prefix=b/ -U3 \(baseCommit) > \(out)/patch.diff
        \(Self.git) diff --cached --raw -z --no-renames --no-abbrev \(baseCommit) > \(out)/changes
        """
        _ = try await runChecked(run, script, what: "collect changes")

        var artifacts: [ArtifactRecord] = []
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let taskFolder = SafeFileWriter(root: folder)
        var patch: Data?
        switch try await readBounded(sandbox, "\(outPath)/patch.diff", maximumSize: maximumPatchSize) {
        case .some(let data):
            try save(data, "patch.diff", with: taskFolder)
            artifacts.append(ArtifactRecord(taskID: taskID, kind: .patch, path: "patch.diff", size: Int64(data.count),
                                            note: containsSecret(data) ? Self.secretNote : nil))
            patch = data
        case .none:
            artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: "patch.diff", size: 0,
                                            note: "patch over the \(maximumPatchSize)-byte limit"))
        }

        guard let list = try await readBounded(sandbox, "\(outPath)/changes", maximumSize: maximumChangeListSize) else {
            artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: "*", size: 0,
                                            note: "the list of changes is over the \(maximumChangeListSize)-byte limit; no files saved"))
            return Outcome(artifacts: artifacts, patch: patch)
        }
        var changes = WorkspaceChange.parseRaw(Array(list))
        if changes.count > maximumChanges {
            artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: "*", size: 0,
                                            note: "\(changes.count - maximumChanges) changes beyond the first \(maximumChanges) not listed or saved"))
            changes.removeLast(changes.count - maximumChanges)
        }

        // Sizes first, so huge files are reported instead of read. They come from inside the
        // sandbox: only a hint for choosing; the bytes read are checked again below.
        let wanted = changes.filter { !$0.isDeleted && $0.isRegularFile && refusal(of: $0.path) == nil }
        var sizes: [String: Int] = [:]
        if !wanted.isEmpty {
            let blobs = Set(wanted.map(\.newBlob)).sorted()
            try await write(sandbox, "\(outPath)/blobs.list", Data(blobs.joined(separator: "\n").appending("\n").utf8))
            _ = try await runChecked(run, "\(Self.git) cat-file --batch-check < \(out)/blobs.list > \(out)/sizes", what: "size changed files")
            let listing = try await readBounded(sandbox, "\(outPath)/sizes", maximumSize: blobs.count * 200 + 4096) ?? Data()
            for line in String(decoding: listing, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 3, let size = Int(parts[2]), size >= 0 { sizes[String(parts[0])] = size }
            }
        }
        var selected: [WorkspaceChange] = []
        var total = 0
        for change in changes {
            if change.isDeleted {
                artifacts.append(ArtifactRecord(taskID: taskID, kind: .deleted, path: change.path, size: 0))
            } else if change.isSymlink {
                artifacts.append(ArtifactRecord(taskID: taskID, kind: .symlink, path: change.path, size: 0,
                                                note: "symbolic link; recorded in the patch, not created on disk"))
            } else if !change.isRegularFile {
                artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: 0,
                                                note: "not a regular file (mode \(change.newMode))"))
            } else if let reason = refusal(of: change.path) {
                artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: Int64(sizes[change.newBlob] ?? 0), note: reason))
            } else if let size = sizes[change.newBlob] {
                if size > maximumFileSize {
                    artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: Int64(size),
                                                    note: "\(size) bytes, over the \(maximumFileSize)-byte file limit"))
                } else if size > maximumTotalSize - total {
                    artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: Int64(size),
                                                    note: "over the \(maximumTotalSize)-byte total limit"))
                } else {
                    total += size
                    selected.append(change)
                }
            } else {
                artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: 0, note: "content missing from git"))
            }
        }

        let files = SafeFileWriter(root: folder.appendingPathComponent("files", isDirectory: true))
        var saved = 0
        for batch in Self.batches(selected, sizes: sizes, limit: Self.batchSize) {
            let blobs = Array(Set(batch.map(\.newBlob))).sorted()
            try await write(sandbox, "\(outPath)/wanted.list", Data(blobs.joined(separator: "\n").appending("\n").utf8))
            _ = try await runChecked(run, "\(Self.git) cat-file --batch < \(out)/wanted.list > \(out)/blobs", what: "read changed files")
            // The sizes were only claims: the batch may be no larger than they add up to.
            let claimed = blobs.reduce(0) { $0 + (sizes[$1] ?? 0) + 100 }
            let contents = try await readBounded(sandbox, "\(outPath)/blobs", maximumSize: claimed).map(Self.parseBatch) ?? [:]
            for change in batch {
                guard let content = contents[change.newBlob], content.count <= maximumFileSize, saved + content.count <= maximumTotalSize else {
                    artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: Int64(sizes[change.newBlob] ?? 0),
                                                    note: "content not as the sandbox reported it"))
                    continue
                }
                do {
                    try files.write(content, to: change.path, mode: change.newMode == "100755" ? 0o700 : 0o600)
                    saved += content.count
                    artifacts.append(ArtifactRecord(taskID: taskID, kind: .file, path: change.path, size: Int64(content.count),
                                                    note: containsSecret(content) ? Self.secretNote : nil))
                } catch {
                    artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: Int64(content.count), note: error.description))
                }
            }
        }
        return Outcome(artifacts: artifacts, patch: patch)
    }

    /// Groups changes so that each group's claimed sizes add up to at most `limit` (a single
    /// larger file gets a group of its own).
    static func batches(_ changes: [WorkspaceChange], sizes: [String: Int], limit: Int) -> [[WorkspaceChange]] {
        var result: [[WorkspaceChange]] = []
        var current: [WorkspaceChange] = []
        var currentSize = 0
        for change in changes {
            let size = sizes[change.newBlob] ?? 0
            if !current.isEmpty && size > limit - currentSize {
                result.append(current)
                current = []
                currentSize = 0
            }
            current.append(change)
            currentSize += size
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// Why a repository path cannot be saved, or `nil` when it can.
    func refusal(of path: String) -> String? {
        do { _ = try SafeFileWriter.validate(path); return nil } catch { return "unsafe path: \(error.description)" }
    }

    /// Parses `git cat-file --batch` output: `<sha> <type> <size>\n<content>\n` per object.
    static func parseBatch(_ data: Data) -> [String: Data] {
        var result: [String: Data] = [:]
        let bytes = [UInt8](data)
        var i = 0
        while i < bytes.count {
            guard let newline = bytes[i...].firstIndex(of: UInt8(ascii: "\n")) else { break }
            let header = String(decoding: bytes[i..<newline], as: UTF8.self).split(separator: " ")
            i = newline + 1
            guard header.count == 3, let size = Int(header[2]) else { continue }   // "<sha> missing"
            // Sizes come from inside the sandbox: a negative or oversized one ends the parse.
            guard size >= 0, size <= bytes.count - i else { break }
            result[String(header[0])] = Data(bytes[i..<(i + size)])
            i += size + 1
        }
        return result
    }

    private func save(_ data: Data, _ name: String, with writer: SafeFileWriter) throws(TaskError) {
        do { try writer.write(data, to: name) } catch { throw TaskError.step("cannot save \(name): \(error.description)") }
    }

    /// Reads a file of ca's output folder; `nil` when it is over `maximumSize`.
    private func readBounded(_ sandbox: any Sandbox, _ path: String, maximumSize: Int) async throws(TaskError) -> Data? {
        do {
            return try await sandbox.readFile(path, maximumSize: maximumSize)
        } catch {
            if case .limitReached = error { return nil }
            if case .transport(let message) = error, message.contains("larger than") { return nil }
            throw TaskError.sandbox(error)
        }
    }

    private func write(_ sandbox: any Sandbox, _ path: String, _ data: Data) async throws(TaskError) {
        do { try await sandbox.writeFile(path, contents: data) } catch { throw TaskError.sandbox(error) }
    }

    private func runChecked(_ run: CommandRunner, _ script: String, what: String) async throws(TaskError) -> CommandResult {
        let result = try await run(CommandSpec(shell: script), what, stepTimeout)
        guard result.exit.succeeded else {
            throw TaskError.step("\(what) failed: \(GitEnvironment.lastLine(of: result.stderrText) ?? result.exit.status)")
        }
        return result
    }
}

import Foundation
import SandboxClient

/// Copies what the agent changed out of a sandbox into the task's folder.
///
/// The patch and the file contents come from git objects (`git add -A`, then `git diff` and
/// `git cat-file`), never by following paths in the workspace, so a symlink the agent left
/// cannot make ca read a file outside the repository. Files are written with
/// ``SafeFileWriter``, so nothing lands outside `<task folder>/files`.
public struct WorkspaceExtractor: Sendable {
    /// Largest single file copied to `files/`.
    public var maximumFileSize: Int64
    /// Largest total of copied files.
    public var maximumTotalSize: Int64
    /// Largest patch saved.
    public var maximumPatchSize: Int64

    public init(maximumFileSize: Int64 = 20 << 20, maximumTotalSize: Int64 = 256 << 20, maximumPatchSize: Int64 = 256 << 20) {
        self.maximumFileSize = maximumFileSize
        self.maximumTotalSize = maximumTotalSize
        self.maximumPatchSize = maximumPatchSize
    }

    /// What was saved.
    public struct Outcome: Sendable {
        public var artifacts: [ArtifactRecord]
        /// The patch, when one was saved (empty when nothing changed).
        public var patch: Data?
    }

    static let out = "\(AgentInvocation.privateFolder)/out"

    /// Extracts the changes since `baseCommit` into `folder`.
    public func extract(taskID: String, sandbox: any Sandbox, baseCommit: String, into folder: URL) async throws(TaskError) -> Outcome {
        let script = """
        set -e
        rm -rf \(Self.out) && mkdir -p \(Self.out)
        git add -A -- . >/dev/null 2>&1 || git add -A -- .
        git -c core.quotepath=off diff --cached --binary --full-index --no-renames --no-ext-diff \(baseCommit) > \(Self.out)/patch.diff
        git diff --cached --raw -z --no-renames --no-abbrev \(baseCommit) > \(Self.out)/changes
        wc -c < \(Self.out)/patch.diff
        """
        let prepared = try await runChecked(sandbox, script, what: "collect changes")
        let patchSize = Int64(prepared.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let changes = WorkspaceChange.parseRaw(Array(try await read(sandbox, "\(Self.out)/changes")))

        var artifacts: [ArtifactRecord] = []
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let taskFolder = SafeFileWriter(root: folder)
        var patch: Data?
        if patchSize > maximumPatchSize {
            artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: "patch.diff", size: patchSize,
                                            note: "patch is \(patchSize) bytes, over the \(maximumPatchSize)-byte limit"))
        } else {
            let data = try await read(sandbox, "\(Self.out)/patch.diff")
            try save(data, "patch.diff", with: taskFolder)
            artifacts.append(ArtifactRecord(taskID: taskID, kind: .patch, path: "patch.diff", size: Int64(data.count)))
            patch = data
        }

        // Sizes first, so huge files are reported instead of downloaded.
        let wanted = changes.filter { !$0.isDeleted && $0.isRegularFile }
        var sizes: [String: Int64] = [:]
        if !wanted.isEmpty {
            let list = Data(Set(wanted.map(\.newBlob)).sorted().joined(separator: "\n").appending("\n").utf8)
            try await write(sandbox, "\(Self.out)/blobs.list", list)
            let check = try await runChecked(sandbox, "git cat-file --batch-check < \(Self.out)/blobs.list", what: "size changed files")
            for line in check.stdoutText.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 3, let size = Int64(parts[2]) { sizes[String(parts[0])] = size }
            }
        }
        var selected: [WorkspaceChange] = []
        var total: Int64 = 0
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
                artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: sizes[change.newBlob] ?? 0, note: reason))
            } else {
                let size = sizes[change.newBlob] ?? 0
                if size > maximumFileSize {
                    artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: size,
                                                    note: "\(size) bytes, over the \(maximumFileSize)-byte file limit"))
                } else if total + size > maximumTotalSize {
                    artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: size,
                                                    note: "over the \(maximumTotalSize)-byte total limit"))
                } else {
                    total += size
                    selected.append(change)
                }
            }
        }

        if !selected.isEmpty {
            let list = Data(selected.map(\.newBlob).joined(separator: "\n").appending("\n").utf8)
            try await write(sandbox, "\(Self.out)/wanted.list", list)
            _ = try await runChecked(sandbox, "git cat-file --batch < \(Self.out)/wanted.list > \(Self.out)/blobs", what: "read changed files")
            let blobs = try await read(sandbox, "\(Self.out)/blobs")
            let contents = Self.parseBatch(blobs)
            let files = SafeFileWriter(root: folder.appendingPathComponent("files", isDirectory: true))
            for change in selected {
                guard let content = contents[change.newBlob] else {
                    artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: 0, note: "content missing from git"))
                    continue
                }
                do {
                    try files.write(content, to: change.path, mode: change.newMode == "100755" ? 0o700 : 0o600)
                    artifacts.append(ArtifactRecord(taskID: taskID, kind: .file, path: change.path, size: Int64(content.count)))
                } catch {
                    artifacts.append(ArtifactRecord(taskID: taskID, kind: .skipped, path: change.path, size: Int64(content.count), note: error.description))
                }
            }
        }
        return Outcome(artifacts: artifacts, patch: patch)
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

    private func read(_ sandbox: any Sandbox, _ path: String) async throws(TaskError) -> Data {
        do { return try await sandbox.readFile(path) } catch { throw TaskError.sandbox(error) }
    }

    private func write(_ sandbox: any Sandbox, _ path: String, _ data: Data) async throws(TaskError) {
        do { try await sandbox.writeFile(path, contents: data) } catch { throw TaskError.sandbox(error) }
    }

    private func runChecked(_ sandbox: any Sandbox, _ script: String, what: String) async throws(TaskError) -> CommandResult {
        let result: CommandResult
        do {
            result = try await sandbox.run(CommandSpec(shell: script, cwd: AgentInvocation.workspace, environment: GitEnvironment.variables))
        } catch { throw TaskError.sandbox(error) }
        guard result.exit.succeeded else {
            throw TaskError.step("\(what) failed: \(GitEnvironment.lastLine(of: result.stderrText) ?? result.exit.status)")
        }
        return result
    }
}

import AgentCore
import Foundation

extension RemoteTaskClient {
    /// What a download saved.
    public struct Download: Sendable {
        /// The artifacts as the server lists them, with a note on those that could not be fetched.
        public var artifacts: [ArtifactRecord]
        /// Whether the patch was saved.
        public var patchSaved: Bool
    }

    /// Saves a task's patch and files under `paths.taskFolder(id)`, in the layout of a local
    /// task (`patch.diff`, `files/<path>`), so that a remote task's `files_dir` is real.
    ///
    /// Paths come from the server, and through it from the agent: every file is written by
    /// ``SafeFileWriter`` (no `..`, no absolute names, no following links). A file that cannot be
    /// fetched or written is reported in its artifact's note, and the rest are still saved.
    public func download(_ task: TaskRecord, into paths: CAPaths) async throws(TaskError) -> Download {
        guard task.id.count == 13, task.id.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."z").contains($0) }) else {
            throw TaskError.serverUnreachable("the server sent a task id that is not one: '\(task.id.prefix(40))'")
        }
        let folder = paths.taskFolder(task.id)
        let writer = SafeFileWriter(root: folder)
        var patchSaved = false
        if let patch = try? await patch(task.id) {
            do throws(SafeFileWriter.Refusal) {
                try writer.write(patch, to: "patch.diff")
                patchSaved = true
            } catch {}
        }
        var artifacts = try await self.artifacts(task.id)
        let files = SafeFileWriter(root: folder.appendingPathComponent("files", isDirectory: true))
        for index in artifacts.indices where artifacts[index].kind == .file {
            let path = artifacts[index].path
            do {
                let data = try await file(task.id, path: path)
                do throws(SafeFileWriter.Refusal) { try files.write(data, to: path) } catch {
                    artifacts[index].note = "not saved here: \(error.description)"
                }
            } catch {
                artifacts[index].note = "not downloaded: \(error.description)"
            }
        }
        return Download(artifacts: artifacts, patchSaved: patchSaved)
    }
}

import Foundation
import GRDB

/// A file saved in a task's folder, or one that was deliberately not saved.
public struct ArtifactRecord: Sendable, Codable, Hashable {
    /// What the artifact is.
    public enum Kind: String, Sendable, Codable {
        /// The unified diff of everything the agent changed.
        case patch
        /// A copy of a changed file, under `files/`.
        case file
        /// A file the agent deleted (nothing is saved; the patch records it).
        case deleted
        /// A symbolic link the agent created; its target is in ``note``, no link is made on disk.
        case symlink
        /// A changed file that was not saved; ``note`` says why.
        case skipped
        /// Claude Code's session transcript.
        case transcript
    }

    public var taskID: String
    public var kind: Kind
    /// Path relative to the repository root (for files) or to the task folder (patch, transcript).
    public var path: String
    public var size: Int64
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case kind, path, size, note
    }

    public init(taskID: String, kind: Kind, path: String, size: Int64, note: String? = nil) {
        self.taskID = taskID
        self.kind = kind
        self.path = path
        self.size = size
        self.note = note
    }
}

extension ArtifactRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "artifact"
}

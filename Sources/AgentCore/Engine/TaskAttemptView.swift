import Foundation

/// One attempt of a best-of-N task as clients see it (the `attempts` array of `ca task get
/// --json` and of the server's task): its number, task id, status, cost and what it changed.
public struct TaskAttemptView: Sendable, Hashable, Codable {
    /// 1...N.
    public var attempt: Int
    /// The attempt's own task id (`ca task get/diff/files/apply/resume` take it as any task's).
    public var id: String
    public var status: TaskStatus
    public var costUSD: Double?
    public var error: String?
    /// Files the attempt changed (saved, deleted or recorded links); `nil` when none was saved yet.
    public var filesChanged: Int?
    /// Size of the attempt's patch in bytes; `nil` when none was saved.
    public var patchBytes: Int64?

    enum CodingKeys: String, CodingKey {
        case attempt, id, status
        case costUSD = "cost_usd"
        case error
        case filesChanged = "files_changed"
        case patchBytes = "patch_bytes"
    }

    public init(attempt: Int, id: String, status: TaskStatus, costUSD: Double?, error: String?, filesChanged: Int?, patchBytes: Int64?) {
        self.attempt = attempt
        self.id = id
        self.status = status
        self.costUSD = costUSD
        self.error = error
        self.filesChanged = filesChanged
        self.patchBytes = patchBytes
    }

    /// An attempt's view from its record and its saved artifacts.
    public init(_ task: TaskRecord, artifacts: [ArtifactRecord]) {
        let patch = artifacts.first { $0.kind == .patch }
        let changed = artifacts.filter { [.file, .deleted, .symlink, .skipped].contains($0.kind) }.count
        self.init(attempt: task.attempt ?? 0, id: task.id, status: task.status, costUSD: task.costUSD, error: task.error,
                  filesChanged: patch == nil && changed == 0 ? nil : changed, patchBytes: patch?.size)
    }

    /// Every field is always present (`null` when unknown).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(attempt, forKey: .attempt); try c.encode(id, forKey: .id); try c.encode(status, forKey: .status)
        try c.encode(costUSD, forKey: .costUSD); try c.encode(error, forKey: .error)
        try c.encode(filesChanged, forKey: .filesChanged); try c.encode(patchBytes, forKey: .patchBytes)
    }
}

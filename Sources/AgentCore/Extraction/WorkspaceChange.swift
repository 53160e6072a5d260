/// One entry of `git diff --raw -z --no-renames`.
public struct WorkspaceChange: Sendable, Hashable {
    /// `A`dded, `M`odified, `D`eleted, `T`ype changed.
    public var status: Character
    public var oldMode: String
    public var newMode: String
    public var newBlob: String
    public var path: String

    /// Whether the new version is a regular file (`100644` or `100755`).
    public var isRegularFile: Bool { newMode == "100644" || newMode == "100755" }
    public var isSymlink: Bool { newMode == "120000" }
    public var isDeleted: Bool { status == "D" }

    /// Parses NUL-separated `git diff --raw -z` output.
    public static func parseRaw(_ data: [UInt8]) -> [WorkspaceChange] {
        let fields = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        var changes: [WorkspaceChange] = []
        var i = 0
        while i + 1 < fields.count {
            let header = fields[i]
            guard header.hasPrefix(":") else { i += 1; continue }
            let parts = header.dropFirst().split(separator: " ")
            guard parts.count >= 5, let status = parts[4].first else { i += 1; continue }
            changes.append(WorkspaceChange(status: status, oldMode: String(parts[0]), newMode: String(parts[1]),
                                           newBlob: String(parts[3]), path: fields[i + 1]))
            i += 2
        }
        return changes
    }
}

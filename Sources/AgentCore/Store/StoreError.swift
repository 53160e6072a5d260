/// Errors of the task store.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No task has this id or id prefix.
    case taskNotFound(String)
    /// Several tasks start with this prefix.
    case ambiguousID(String, [String])
    /// SQLite failed.
    case database(String)

    public var description: String {
        switch self {
        case .taskNotFound(let id): return "no task with id '\(id)'"
        case .ambiguousID(let prefix, let ids):
            return "id prefix '\(prefix)' is ambiguous; it matches \(ids.joined(separator: ", "))"
        case .database(let message): return "database error: \(message)"
        }
    }

    static func wrap(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        return .database(String(describing: error))
    }
}

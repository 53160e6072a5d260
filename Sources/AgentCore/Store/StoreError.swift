/// Errors of the task store.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No task has this id or id prefix.
    case taskNotFound(String)
    /// Several tasks start with this prefix.
    case ambiguousID(String, [String])
    /// SQLite failed.
    case database(String)
    /// The database was written by a newer ca, whose schema this binary does not know.
    case newerSchema(path: String, unknownMigrations: [String])

    public var description: String {
        switch self {
        case .taskNotFound(let id): return "no task with id '\(id)'"
        case .ambiguousID(let prefix, let ids):
            return "id prefix '\(prefix)' is ambiguous; it matches \(ids.joined(separator: ", "))"
        case .database(let message): return "database error: \(message)"
        case .newerSchema(let path, let migrations):
            return "\(path) was written by a newer version of ca (schema \(migrations.joined(separator: ", ")) is unknown to this one); "
                + "upgrade ca, or point CA_HOME elsewhere"
        }
    }

    static func wrap(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        return .database(String(describing: error))
    }
}

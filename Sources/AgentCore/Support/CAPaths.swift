import Foundation

/// Where ca keeps its files.
///
/// The root is `$CA_HOME` when set, otherwise `$XDG_DATA_HOME/ca`, otherwise `~/.local/share/ca`.
public struct CAPaths: Sendable, Hashable {
    /// The root folder.
    public let home: URL

    public init(home: URL) {
        self.home = home.standardizedFileURL
    }

    /// Resolves the root from an environment.
    public static func resolve(environment: [String: String]) -> CAPaths {
        if let home = environment["CA_HOME"], !home.isEmpty {
            return CAPaths(home: URL(fileURLWithPath: home, isDirectory: true))
        }
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return CAPaths(home: URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("ca", isDirectory: true))
        }
        let user = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return CAPaths(home: URL(fileURLWithPath: user, isDirectory: true)
            .appendingPathComponent(".local/share/ca", isDirectory: true))
    }

    /// The SQLite database.
    public var database: URL { home.appendingPathComponent("ca.sqlite") }
    /// Folder holding one folder per task.
    public var tasks: URL { home.appendingPathComponent("tasks", isDirectory: true) }
    /// Folder of a task: patch, changed files, transcript.
    public func taskFolder(_ id: String) -> URL { tasks.appendingPathComponent(id, isDirectory: true) }
    /// Folder of the local sandbox backend.
    public var sandboxes: URL { home.appendingPathComponent("sandboxes", isDirectory: true) }
    /// Output of detached runners.
    public var logs: URL { home.appendingPathComponent("logs", isDirectory: true) }
    /// Repositories uploaded to a server as git bundles, one folder per owner (see ``RepositoryBundles``).
    public var bundles: URL { home.appendingPathComponent("bundles", isDirectory: true) }
}

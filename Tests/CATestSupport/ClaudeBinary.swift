import Foundation

/// Locates the pinned `claude` CLI (the version in `template/claude-code-version`) for tests.
///
/// The binary is taken from the `CA_CLAUDE_BIN` environment variable when set, else from
/// `<package root>/vendor/claude/claude`, which `scripts/fetch-claude.sh` installs.
/// ``locate(environment:)`` throws when it is missing, so a test that needs it fails
/// (instead of silently skipping).
public struct ClaudeBinary: Sendable {
    /// The Claude Code version pinned in `template/claude-code-version` (which
    /// `scripts/fetch-claude.sh` and the cloud template install), `unknown` when unreadable.
    public static var pinnedVersion: String {
        let file = packageRoot.appendingPathComponent("template/claude-code-version")
        let text = (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
    }

    /// The environment variable that overrides the location.
    public static let environmentVariable = "CA_CLAUDE_BIN"

    /// Why the binary could not be used.
    public struct NotFound: Error, CustomStringConvertible {
        /// The path that was tried.
        public var path: String
        /// What was wrong with it.
        public var reason: String

        public var description: String {
            """
            The claude CLI is not available at \(path) (\(reason)). \
            Run `bash scripts/fetch-claude.sh` in the package root to install the pinned \
            Claude Code \(ClaudeBinary.pinnedVersion) into vendor/claude/claude, \
            or set \(ClaudeBinary.environmentVariable) to an executable claude binary.
            """
        }
    }

    /// The executable's location.
    public var url: URL

    /// The executable's path.
    public var path: String { url.path }

    /// Creates a value for a known location, without checking it.
    public init(url: URL) {
        self.url = url
    }

    /// The package root: the nearest folder above this source file that holds `Package.swift`.
    public static var packageRoot: URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory = directory.deletingLastPathComponent()
        }
        // Fall back to the layout Tests/CATestSupport/<this file>.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The default location, `<package root>/vendor/claude/claude`.
    public static var vendoredURL: URL {
        packageRoot.appendingPathComponent("vendor/claude/claude")
    }

    /// Finds the binary: `CA_CLAUDE_BIN` if set and non-empty, else the vendored copy.
    /// - Throws: ``NotFound`` when the file is missing or not executable.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ClaudeBinary {
        let url: URL
        if let override = environment[environmentVariable], !override.isEmpty {
            url = URL(fileURLWithPath: override)
        } else {
            url = vendoredURL
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw NotFound(path: url.path, reason: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw NotFound(path: url.path, reason: "it is a directory")
        }
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw NotFound(path: url.path, reason: "not executable")
        }
        return ClaudeBinary(url: url)
    }
}

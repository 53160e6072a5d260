import Foundation
import SandboxClient

/// A repository given by the user: a remote URL, or a folder / `file://` URL on this machine.
///
/// Remote repositories are cloned inside the sandbox. Local ones cannot be reached from a
/// sandbox (a cloud sandbox cannot see this machine), so ca packs them into a git bundle on
/// the host, uploads it, and clones from that — the same way for every backend.
public struct RepositorySource: Sendable, Hashable {
    public enum Location: Sendable, Hashable {
        /// https, ssh, git or scp-like URL, cloned by git inside the sandbox.
        case remote(String)
        /// Absolute path of a repository folder (working tree or bare) on this machine.
        case local(String)
        /// A git bundle uploaded to a server (`bundle:<sha256>`, see ``RepositoryBundles``).
        case bundle(String)
    }

    /// The scheme of an uploaded bundle's repository URL.
    public static let bundleScheme = "bundle:"

    public let location: Location
    /// The URL with credentials removed, safe to store and show.
    public let displayURL: String

    /// Classifies what the user typed. Throws when a local path does not exist.
    public init(_ input: String, currentDirectory: String = FileManager.default.currentDirectoryPath) throws(TaskError) {
        let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw TaskError.invalidArgument("the repository must not be empty") }
        if trimmed.hasPrefix(Self.bundleScheme) {
            let id = String(trimmed.dropFirst(Self.bundleScheme.count))
            guard RepositoryBundles.isValidID(id) else {
                throw TaskError.invalidArgument("a bundle repository is 'bundle:' and the 64 hex digits of an uploaded bundle's id")
            }
            location = .bundle(id)
        } else if trimmed.hasPrefix("file://") {
            guard let url = URL(string: trimmed), url.isFileURL else {
                throw TaskError.repositoryUnreachable(trimmed, "not a valid file:// URL")
            }
            location = .local(url.path)
        } else if trimmed.contains("://") || Self.isSCPLike(trimmed) {
            location = .remote(trimmed)
        } else {
            let absolute = trimmed.hasPrefix("/") ? trimmed : (currentDirectory as NSString).appendingPathComponent(trimmed)
            location = .local((absolute as NSString).standardizingPath)
        }
        displayURL = Self.redactCredentials(trimmed)
        if case .local(let path) = location {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw TaskError.repositoryUnreachable(displayURL, "no such folder on this machine")
            }
        }
    }

    /// Whether `input` names a remote repository (a URL other than `file://`, or scp-like),
    /// without looking at this machine's disk.
    public static func isRemote(_ input: String) -> Bool {
        let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
        return !trimmed.lowercased().hasPrefix("file://") && (trimmed.contains("://") || isSCPLike(trimmed))
    }

    /// Whether `input` names an uploaded bundle (`bundle:…`).
    public static func isBundle(_ input: String) -> Bool {
        input.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(bundleScheme)
    }

    /// `[user[:password]@]host:path` (scp-like ssh syntax): an `@` and then a `:` before any `/`.
    public static func isSCPLike(_ s: String) -> Bool {
        guard !s.hasPrefix("/") else { return false }
        let head = s.prefix { $0 != "/" }
        guard let at = head.lastIndex(of: "@"), let colon = head[head.index(after: at)...].firstIndex(of: ":") else { return false }
        return !head[head.index(after: at)..<colon].isEmpty
    }

    /// Removes credentials from a repository URL so tokens never reach the database or the
    /// screen: `user:password@` (in scp-like syntax only when there is a password, since
    /// `git@host:path` is plain ssh) and token-like query parameters (`access_token`,
    /// `private_token`, `token`, `key`, `sig`, `X-Amz-Signature`, `password`, …, any case).
    /// Other query parameters and the fragment are kept.
    public static func redactCredentials(_ url: String) -> String {
        URLCredentials.strip(url)
    }

    /// `text` with every `scheme://` URL in it stripped of credentials as by
    /// ``redactCredentials(_:)`` — for messages that quote URLs, such as git's errors.
    public static func redactCredentials(inText text: String) -> String {
        URLCredentials.redact(inText: text)
    }
}

extension RepositorySource {
    /// The host (and port) a remote repository is cloned from, for the sandbox's allowlist:
    /// `https` 443, `http` 80, `ssh` and scp-like 22, `git` 9418. `nil` for local repositories.
    public var networkHost: HostRule? {
        guard case .remote(let url) = location else { return nil }
        if let schemeEnd = url.range(of: "://") {
            let scheme = url[..<schemeEnd.lowerBound].lowercased()
            var authority = String(url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" })
            if let at = authority.lastIndex(of: "@") { authority = String(authority[authority.index(after: at)...]) }
            let defaultPort: Int? = switch scheme {
            case "https": 443
            case "http": 80
            case "ssh", "git+ssh", "ssh+git": 22
            case "git": 9418
            default: nil
            }
            guard let defaultPort else { return nil }
            if let rule = HostRule(parsing: authority), rule.port != nil { return rule }
            return HostRule(parsing: authority).map { HostRule(host: $0.host, port: defaultPort) }
        }
        // scp-like: user@host:path
        guard let at = url.firstIndex(of: "@"), let colon = url[at...].firstIndex(of: ":") else { return nil }
        let host = String(url[url.index(after: at)..<colon])
        return HostRule(parsing: host).map { HostRule(host: $0.host, port: 22) }
    }
}

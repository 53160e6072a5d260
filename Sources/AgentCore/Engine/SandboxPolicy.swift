import Foundation
import SandboxClient

/// How much of the world a task's local sandbox may reach (see `--network`).
public enum NetworkMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Only the agent's API, through ca's gateway.
    case none
    /// The agent's API, the repository's host and the hosts allowed with `--allow-host`.
    case allowlist
    /// Any destination through ca's proxy (the API key still stays outside the sandbox).
    case open
}

/// A task's sandbox settings: network access and extra read-only host paths.
///
/// Stored with the task (`sandbox_policy`), so a detached runner and `resume` use the same.
/// Cloud backends have their own network and file system; they ignore it.
public struct SandboxPolicy: Sendable, Hashable, Codable {
    public var network: NetworkMode
    /// `host[:port]` entries (and `@registries`) allowed besides the API and the repository.
    public var allowHosts: [String]
    /// Host paths the sandbox sees read-only (toolchains outside `/usr`).
    public var readOnlyPaths: [String]

    enum CodingKeys: String, CodingKey {
        case network
        case allowHosts = "allow_hosts"
        case readOnlyPaths = "ro_paths"
    }

    public init(network: NetworkMode = .allowlist, allowHosts: [String] = [], readOnlyPaths: [String] = []) {
        self.network = network
        self.allowHosts = allowHosts
        self.readOnlyPaths = readOnlyPaths
    }

    /// The policy for a new task: the flags given, on top of `CA_NETWORK`, `CA_ALLOW_HOSTS`
    /// (separated by commas or spaces) and `CA_RO_PATHS` (separated by colons). Hosts must
    /// parse and paths must be absolute and exist.
    public static func resolve(network: NetworkMode?, allowHosts: [String], readOnlyPaths: [String],
                               environment: [String: String], base: SandboxPolicy? = nil) throws(TaskError) -> SandboxPolicy {
        var policy = base ?? SandboxPolicy()
        if base == nil, let configured = environment["CA_NETWORK"], !configured.isEmpty {
            guard let mode = NetworkMode(rawValue: configured.lowercased()) else {
                throw TaskError.invalidArgument("CA_NETWORK must be one of \(NetworkMode.allCases.map(\.rawValue).joined(separator: ", ")), not '\(configured)'")
            }
            policy.network = mode
        }
        if let network { policy.network = network }
        if base == nil {
            policy.allowHosts += (environment["CA_ALLOW_HOSTS"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
            policy.readOnlyPaths += (environment["CA_RO_PATHS"] ?? "").split(separator: ":").map(String.init)
        }
        policy.allowHosts += allowHosts
        policy.readOnlyPaths += readOnlyPaths
        do { _ = try HostRule.parseList(policy.allowHosts) } catch { throw TaskError.invalidArgument("allowed hosts: \(error.description)") }
        for path in policy.readOnlyPaths {
            guard path.hasPrefix("/") else { throw TaskError.invalidArgument("a read-only path must be absolute: '\(path)'") }
            guard FileManager.default.fileExists(atPath: path) else { throw TaskError.invalidArgument("the read-only path \(path) does not exist") }
        }
        policy.allowHosts = Self.unique(policy.allowHosts)
        policy.readOnlyPaths = Self.unique(policy.readOnlyPaths)
        return policy
    }

    private static func unique(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        return values.filter { seen.insert($0).inserted }
    }
}

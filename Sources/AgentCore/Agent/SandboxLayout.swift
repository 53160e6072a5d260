/// Where ca puts things inside a sandbox, relative to the sandbox's home folder.
///
/// Every backend's home is `/home/user`, except the local backend without isolation, whose
/// processes run on the host: there the home is the sandbox's host folder, and every path
/// follows it.
public struct SandboxLayout: Sendable, Hashable {
    /// The sandbox's home (``Sandbox/homeDirectory``).
    public let home: String

    public init(home: String) {
        self.home = home
    }

    /// The layout of sandboxes whose home is `/home/user`.
    public static let standard = SandboxLayout(home: "/home/user")

    /// The repository.
    public var workspace: String { home + "/repo" }
    /// ca's private folder (outside the repository).
    public var privateFolder: String { home + "/.ca" }
    /// The agent's HOME.
    public var agentHome: String { privateFolder + "/home" }
    /// The agent's `CLAUDE_CONFIG_DIR`, where its transcripts live.
    public var configDirectory: String { privateFolder + "/claude" }
    /// The agent's TMPDIR: under the sandbox's `/tmp`, or in the private folder when the home is
    /// a host folder (the host's `/tmp` is shared).
    public var temporaryDirectory: String { home == Self.standard.home ? "/tmp/ca-agent" : privateFolder + "/tmp" }
    /// Where extraction writes its output.
    public var extractionFolder: String { privateFolder + "/out" }

    /// Where the session transcript lives.
    public func transcriptPath(sessionID: String) -> String {
        "\(configDirectory)/projects/\(AgentInvocation.projectSlug(for: workspace))/\(sessionID).jsonl"
    }
}

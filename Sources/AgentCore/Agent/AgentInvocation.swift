import Foundation
import SandboxClient

/// Credentials for the Anthropic API, taken from the user's environment.
///
/// They reach the agent only through its process environment: never argv, the database,
/// logs or error messages.
public struct AgentCredentials: Sendable, Hashable {
    public var apiKey: String?
    public var authToken: String?
    public var baseURL: String?

    public init(apiKey: String? = nil, authToken: String? = nil, baseURL: String? = nil) {
        self.apiKey = apiKey
        self.authToken = authToken
        self.baseURL = baseURL
    }

    /// Reads `ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN` and `ANTHROPIC_BASE_URL`.
    public static func fromEnvironment(_ environment: [String: String]) -> AgentCredentials {
        func value(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
            return v
        }
        return AgentCredentials(apiKey: value("ANTHROPIC_API_KEY"), authToken: value("ANTHROPIC_AUTH_TOKEN"), baseURL: value("ANTHROPIC_BASE_URL"))
    }

    /// Whether any key or token is present.
    public var isUsable: Bool { apiKey != nil || authToken != nil }

    /// Secret values, for redaction: the key, the token, and the credentials inside the base URL
    /// (its user and password, and token-like query parameters), as written and percent-decoded.
    public var secrets: [String] {
        [apiKey, authToken].compactMap { $0 } + (baseURL.map(URLCredentials.secrets(in:)) ?? [])
    }

    /// The base URL without its credentials, safe to store and show.
    public var displayBaseURL: String? {
        baseURL.map(URLCredentials.strip)
    }
}

/// How to run Claude Code headless for one task: its command line and environment.
public struct AgentInvocation: Sendable, Hashable {
    /// Folder of the repository inside the sandbox.
    public static let workspace = "/home/user/repo"
    /// ca's private folder inside the sandbox (outside the repository).
    public static let privateFolder = "/home/user/.ca"
    /// The agent's HOME.
    public static let agentHome = "/home/user/.ca/home"
    /// The agent's `CLAUDE_CONFIG_DIR`, where its transcripts live.
    public static let configDirectory = "/home/user/.ca/claude"
    /// The agent's TMPDIR.
    public static let temporaryDirectory = "/tmp/ca-agent"

    public var executable: String
    public var prompt: String
    public var model: String?
    public var maxTurns: Int?
    /// Session to continue (`--resume`).
    public var resumeSessionID: String?
    public var credentials: AgentCredentials
    /// Extra environment passed through from the user (`CLAUDE_CODE_MAX_RETRIES`, `ANTHROPIC_MODEL`).
    public var passthroughEnvironment: [String: String]

    public init(executable: String, prompt: String, model: String? = nil, maxTurns: Int? = nil, resumeSessionID: String? = nil,
                credentials: AgentCredentials, passthroughEnvironment: [String: String] = [:]) {
        self.executable = executable
        self.prompt = prompt
        self.model = model
        self.maxTurns = maxTurns
        self.resumeSessionID = resumeSessionID
        self.credentials = credentials
        self.passthroughEnvironment = passthroughEnvironment
    }

    /// Names of user environment variables handed to the agent when set.
    public static let passthroughNames = ["CLAUDE_CODE_MAX_RETRIES", "ANTHROPIC_MODEL", "ANTHROPIC_SMALL_FAST_MODEL", "API_TIMEOUT_MS"]

    /// The command line. The prompt follows `--`, so a prompt starting with `-` is not read as a flag.
    public var arguments: [String] {
        var args = ["-p", "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"]
        if let model { args += ["--model", model] }
        if let maxTurns { args += ["--max-turns", String(maxTurns)] }
        if let resumeSessionID { args += ["--resume", resumeSessionID] }
        args += ["--", prompt]
        return args
    }

    /// The environment of the agent process.
    public var environment: [String: String] {
        var env = passthroughEnvironment
        env["HOME"] = Self.agentHome
        env["CLAUDE_CONFIG_DIR"] = Self.configDirectory
        env["TMPDIR"] = Self.temporaryDirectory
        env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
        env["DISABLE_AUTOUPDATER"] = "1"
        env["IS_SANDBOX"] = "1"
        if let key = credentials.apiKey { env["ANTHROPIC_API_KEY"] = key }
        if let token = credentials.authToken { env["ANTHROPIC_AUTH_TOKEN"] = token }
        if let url = credentials.baseURL { env["ANTHROPIC_BASE_URL"] = url }
        return env
    }

    /// The process to start in the sandbox.
    public var command: CommandSpec {
        CommandSpec(executable: executable, arguments: arguments, cwd: Self.workspace, environment: environment, stdin: false)
    }

    /// Claude Code's project slug of a working directory: every character outside `[A-Za-z0-9]` becomes `-`.
    public static func projectSlug(for directory: String) -> String {
        let mapped = String(directory.unicodeScalars.map { scalar -> Character in
            (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) ? Character(scalar) : "-"
        })
        return mapped.count > 200 ? String(mapped.prefix(200)) : mapped
    }

    /// Where the session transcript lives inside the sandbox.
    public static func transcriptPath(sessionID: String) -> String {
        "\(configDirectory)/projects/\(projectSlug(for: workspace))/\(sessionID).jsonl"
    }
}

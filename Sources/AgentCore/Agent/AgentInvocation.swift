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

    /// The Anthropic API as a service of ca's network gateway: the sandbox sends its requests
    /// to the gateway, which forwards them to the real endpoint with the real credentials.
    public var gatewayService: GatewayService {
        var headers: [String: String] = [:]
        if let apiKey { headers["x-api-key"] = apiKey }
        if let authToken { headers["authorization"] = "Bearer \(authToken)" }
        return GatewayService(name: AgentInvocation.gatewayServiceName, upstream: upstreamURL, headers: headers)
    }

    /// `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`) without user and password.
    public var upstreamURL: URL {
        let fallback = URL(string: "https://api.anthropic.com")!
        guard let baseURL, var components = URLComponents(string: baseURL), components.host != nil else { return fallback }
        components.user = nil
        components.password = nil
        return components.url ?? fallback
    }

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
    /// Folder of the repository in sandboxes of the standard layout (see ``SandboxLayout``).
    public static let workspace = SandboxLayout.standard.workspace
    /// Name of the Anthropic API service on ca's gateway (`<gateway>/anthropic`).
    public static let gatewayServiceName = "anthropic"
    /// What a local sandbox gets instead of the API key: the gateway adds the real one.
    public static let credentialPlaceholder = "ca-gateway-adds-the-real-key"

    public var executable: String
    public var prompt: String
    public var model: String?
    public var maxTurns: Int?
    /// Session to continue (`--resume`).
    public var resumeSessionID: String?
    public var credentials: AgentCredentials
    /// Extra environment passed through from the user (`CLAUDE_CODE_MAX_RETRIES`, `ANTHROPIC_MODEL`).
    public var passthroughEnvironment: [String: String]
    /// ca's gateway inside the sandbox, when the backend provides one: then the agent gets a
    /// placeholder instead of the credentials and reaches the API (and anything else) through it.
    public var gateway: SandboxGatewayEndpoints?
    /// Where things are in the sandbox.
    public var layout: SandboxLayout
    /// `--max-budget-usd`: Claude Code's own stop, per invocation (ca's cap, as a second line of defence).
    public var maxBudgetUSD: Double?

    public init(executable: String, prompt: String, model: String? = nil, maxTurns: Int? = nil, resumeSessionID: String? = nil,
                credentials: AgentCredentials, passthroughEnvironment: [String: String] = [:], gateway: SandboxGatewayEndpoints? = nil,
                layout: SandboxLayout = .standard, maxBudgetUSD: Double? = nil) {
        self.maxBudgetUSD = maxBudgetUSD
        self.gateway = gateway
        self.layout = layout
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
        if let maxBudgetUSD, maxBudgetUSD.isFinite, maxBudgetUSD > 0 { args += ["--max-budget-usd", String(format: "%.6f", maxBudgetUSD)] }
        args += ["--", prompt]
        return args
    }

    /// The environment of the agent process.
    public var environment: [String: String] {
        var env = passthroughEnvironment
        env["HOME"] = layout.agentHome
        env["CLAUDE_CONFIG_DIR"] = layout.configDirectory
        env["TMPDIR"] = layout.temporaryDirectory
        env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
        env["DISABLE_AUTOUPDATER"] = "1"
        env["IS_SANDBOX"] = "1"
        if let gateway {
            // The credentials stay with ca: the gateway adds them on the way out.
            env.merge(gateway.proxyEnvironment) { _, new in new }
            env["ANTHROPIC_BASE_URL"] = gateway.serviceURL(Self.gatewayServiceName)
            if credentials.apiKey != nil { env["ANTHROPIC_API_KEY"] = Self.credentialPlaceholder }
            if credentials.authToken != nil { env["ANTHROPIC_AUTH_TOKEN"] = Self.credentialPlaceholder }
            return env
        }
        if let key = credentials.apiKey { env["ANTHROPIC_API_KEY"] = key }
        if let token = credentials.authToken { env["ANTHROPIC_AUTH_TOKEN"] = token }
        if let url = credentials.baseURL { env["ANTHROPIC_BASE_URL"] = url }
        return env
    }

    /// The process to start in the sandbox.
    public var command: CommandSpec {
        CommandSpec(executable: executable, arguments: arguments, cwd: layout.workspace, environment: environment, stdin: false)
    }

    /// Claude Code's project slug of a working directory: every character outside `[A-Za-z0-9]` becomes `-`.
    public static func projectSlug(for directory: String) -> String {
        let mapped = String(directory.unicodeScalars.map { scalar -> Character in
            (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) ? Character(scalar) : "-"
        })
        return mapped.count > 200 ? String(mapped.prefix(200)) : mapped
    }

    /// Where the session transcript lives inside a sandbox of the standard layout.
    public static func transcriptPath(sessionID: String) -> String {
        SandboxLayout.standard.transcriptPath(sessionID: sessionID)
    }
}

import Foundation

/// Settings of the Novita (or E2B) sandbox backend.
///
/// Build it from the process environment with ``fromEnvironment(_:flavour:)``:
///
/// ```swift
/// let configuration = try NovitaConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
/// let provider = NovitaSandboxProvider(configuration: configuration)
/// ```
///
/// The API key never appears in ``description``, ``debugDescription`` or any ``SandboxError``.
///
/// ## Identification headers
/// The client identifies itself honestly: `User-Agent: <clientName>/<clientVersion>` on every request
/// and, for the Novita flavour, `X-Novita-SDK-Name: <clientName>` / `X-Novita-SDK-Version: <clientVersion>`.
/// The protocol reference lists these headers as informational only (the service needs `X-API-KEY`
/// and, inside a secure sandbox, `X-Access-Token`), so we never claim to be the Python SDK.
public struct NovitaConfiguration: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Which service (and which environment variable names) to use.
    public enum Flavour: String, Sendable, Hashable, CaseIterable {
        /// Novita Agent Sandbox (`NOVITA_*` variables, `us-phx-1.sandbox.novita.ai`).
        case novita
        /// E2B (`E2B_*` variables, `e2b.app`).
        case e2b

        /// Prefix of the environment variable names, `NOVITA` or `E2B`.
        public var environmentPrefix: String {
            switch self {
            case .novita: return "NOVITA"
            case .e2b: return "E2B"
            }
        }

        /// Domain used when none is configured.
        public var defaultDomain: String {
            switch self {
            case .novita: return "us-phx-1.sandbox.novita.ai"
            case .e2b: return "e2b.app"
            }
        }

        /// Name of the header that routes a request to a sandbox (`Novita-Sandbox-Id` or `E2b-Sandbox-Id`).
        public var sandboxIDHeader: String {
            switch self {
            case .novita: return "Novita-Sandbox-Id"
            case .e2b: return "E2b-Sandbox-Id"
            }
        }

        /// Name of the header that routes a request to a sandbox port.
        public var sandboxPortHeader: String {
            switch self {
            case .novita: return "Novita-Sandbox-Port"
            case .e2b: return "E2b-Sandbox-Port"
            }
        }
    }

    /// The service flavour.
    public var flavour: Flavour
    /// The API key sent as `X-API-KEY` to the control plane.
    public var apiKey: String
    /// Sandbox domain, such as `us-phx-1.sandbox.novita.ai`.
    public var domain: String
    /// Base URL of the REST control plane (`https://api.<domain>` by default).
    public var apiURL: URL
    /// Replaces the envd base URL of every sandbox (`NOVITA_SANDBOX_URL`); `nil` means
    /// `https://49983-<sandboxID>.<domain>`.
    public var sandboxURL: URL?
    /// Our name in `User-Agent` and the SDK name header.
    public var clientName: String
    /// Our version in `User-Agent` and the SDK version header.
    public var clientVersion: String
    /// Time limit of one REST call, envd unary call or file transfer.
    public var requestTimeout: Duration
    /// Seconds between keepalive events that envd is asked to send on process streams.
    public var keepalivePingInterval: Int
    /// Port of envd inside the sandbox.
    public var envdPort: Int

    public init(
        flavour: Flavour = .novita,
        apiKey: String,
        domain: String? = nil,
        apiURL: URL? = nil,
        sandboxURL: URL? = nil,
        clientName: String = "ca",
        clientVersion: String = "0.1.0",
        requestTimeout: Duration = .seconds(60),
        keepalivePingInterval: Int = 50,
        envdPort: Int = 49983
    ) {
        let domain = domain ?? flavour.defaultDomain
        self.flavour = flavour
        self.apiKey = apiKey
        self.domain = domain
        self.apiURL = apiURL ?? URL(string: "https://api.\(domain)") ?? URL(string: "https://api.\(flavour.defaultDomain)")!
        self.sandboxURL = sandboxURL
        self.clientName = clientName
        self.clientVersion = clientVersion
        self.requestTimeout = requestTimeout
        self.keepalivePingInterval = keepalivePingInterval
        self.envdPort = envdPort
    }

    /// Reads the configuration from environment variables.
    ///
    /// Novita: `NOVITA_API_KEY` (required), `NOVITA_DOMAIN` (default `us-phx-1.sandbox.novita.ai`),
    /// `NOVITA_API_URL` (default `https://api.<domain>`), `NOVITA_SANDBOX_URL` (optional envd override).
    /// E2B: the same with the `E2B_` prefix and default domain `e2b.app`. Empty values count as unset.
    ///
    /// - Throws: ``SandboxError/configuration(_:)`` when the key is missing or a URL is malformed.
    public static func fromEnvironment(_ environment: [String: String], flavour: Flavour = .novita) throws(SandboxError) -> NovitaConfiguration {
        let prefix = flavour.environmentPrefix
        func value(_ suffix: String) -> String? {
            guard let raw = environment["\(prefix)_\(suffix)"]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else {
                return nil
            }
            return raw
        }
        func url(_ suffix: String) throws(SandboxError) -> URL? {
            guard let raw = value(suffix) else { return nil }
            guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
                throw SandboxError.configuration("\(prefix)_\(suffix) is not an http(s) URL")
            }
            return url
        }
        guard let apiKey = value("API_KEY") else {
            throw SandboxError.configuration("\(prefix)_API_KEY is not set")
        }
        let domain = value("DOMAIN") ?? flavour.defaultDomain
        let apiURL = try url("API_URL") ?? URL(string: "https://api.\(domain)")
        guard let apiURL else {
            throw SandboxError.configuration("\(prefix)_DOMAIN does not form a valid URL")
        }
        return NovitaConfiguration(
            flavour: flavour,
            apiKey: apiKey,
            domain: domain,
            apiURL: apiURL,
            sandboxURL: try url("SANDBOX_URL")
        )
    }

    /// `User-Agent` value, `<clientName>/<clientVersion>`.
    public var userAgent: String { "\(clientName)/\(clientVersion)" }

    /// Headers that identify this client, sent on every request.
    var identityHeaders: [(String, String)] {
        var headers = [("User-Agent", userAgent)]
        if flavour == .novita {
            headers.append(("X-Novita-SDK-Name", clientName))
            headers.append(("X-Novita-SDK-Version", clientVersion))
        }
        return headers
    }

    /// The headers that route a request to a sandbox's envd port (`Novita-Sandbox-Id`/`-Port`, or E2B's).
    func routingHeaders(sandboxID: String) -> [(name: String, value: String)] {
        [(flavour.sandboxIDHeader, sandboxID), (flavour.sandboxPortHeader, String(envdPort))]
    }

    /// The envd base URL of a sandbox: the override, or `https://<port>-<id>.<domain>`.
    func envdBaseURL(sandboxID: String, sandboxDomain: String?) throws(SandboxError) -> URL {
        if let sandboxURL { return sandboxURL }
        let domain = sandboxDomain.flatMap { $0.isEmpty ? nil : $0 } ?? self.domain
        guard let url = URL(string: "https://\(envdPort)-\(sandboxID).\(domain)") else {
            throw SandboxError.configuration("cannot form the envd URL of sandbox \(sandboxID) in domain \(domain)")
        }
        return url
    }

    public var description: String {
        "NovitaConfiguration(flavour: \(flavour.rawValue), apiKey: <redacted>, domain: \(domain), apiURL: \(apiURL.absoluteString), sandboxURL: \(sandboxURL?.absoluteString ?? "default"))"
    }

    public var debugDescription: String { description }
}

extension NovitaConfiguration: CustomReflectable {
    /// A mirror without the API key, so `dump` cannot print it.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "flavour": flavour, "apiKey": "<redacted>", "domain": domain, "apiURL": apiURL,
            "sandboxURL": sandboxURL as Any, "clientName": clientName, "clientVersion": clientVersion,
        ])
    }
}

import Foundation

/// What a sandbox may reach on the network.
///
/// The local backend gives every sandbox its own, empty network namespace: its processes reach
/// nothing but ca's gateway on the host, through a Unix socket bound into the sandbox and a
/// small bridge that serves it as `http://127.0.0.1:3128` inside. The gateway is an HTTP proxy
/// (`CONNECT` and plain `http://` requests) that lets through only what ``access`` allows, and
/// it serves ``services``: upstream APIs that the sandbox reaches *through* the gateway, which
/// adds the credentials on the way out, so the sandbox never holds them.
///
/// Cloud backends (Novita, E2B) run sandboxes with their own network; they ignore this (see
/// ``Sandbox/networkGateway``).
public struct SandboxNetwork: Sendable {
    /// Which destinations the proxy lets through.
    public enum Access: Sendable, Hashable {
        /// None: only the ``SandboxNetwork/services``.
        case none
        /// Only the listed destinations (and the services).
        case allowlist([HostRule])
        /// Any destination, loopback and private addresses included.
        case open
    }

    public var access: Access
    /// Upstream APIs served by the gateway with credentials added.
    public var services: [GatewayService]
    /// Called for each proxied connection the gateway allows or denies (not for service
    /// requests). Called from a network thread; keep it short.
    public var onEvent: (@Sendable (SandboxNetworkEvent) -> Void)?

    public init(access: Access, services: [GatewayService] = [], onEvent: (@Sendable (SandboxNetworkEvent) -> Void)? = nil) {
        self.access = access
        self.services = services
        self.onEvent = onEvent
    }

    /// No network at all: no gateway is started.
    public static let offline = SandboxNetwork(access: .none)

    /// Whether the sandbox needs the gateway (anything but ``offline``).
    public var needsGateway: Bool {
        access != .none || !services.isEmpty
    }

    /// Whether `host:port` may be reached through the proxy.
    public func allows(host: String, port: Int) -> Bool {
        switch access {
        case .none: return false
        case .open: return true
        case .allowlist(let rules): return rules.contains { $0.matches(host: host, port: port) }
        }
    }
}

/// One allowlist entry: `host`, `host:port` or `*.domain[:port]`.
///
/// Without a port, the entry allows ports 443 and 80. Host names compare case-insensitively;
/// `*.example.com` matches every subdomain of `example.com` (not `example.com` itself).
public struct HostRule: Sendable, Hashable, CustomStringConvertible {
    /// Lowercased host name or IP address, possibly starting with `*.`.
    public let host: String
    /// The port, or `nil` for 443 and 80.
    public let port: Int?

    public init(host: String, port: Int? = nil) {
        self.host = host.lowercased()
        self.port = port
    }

    /// Parses `host[:port]` (IPv6 addresses in brackets: `[::1]:8080`). `nil` when malformed.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty, trimmed.count <= 255 else { return nil }
        var host = trimmed
        var port: Int?
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else { return nil }
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = trimmed.lastIndex(of: ":"), trimmed.firstIndex(of: ":") == colon {
            host = String(trimmed[..<colon])
            guard let value = Int(trimmed[trimmed.index(after: colon)...]) else { return nil }
            port = value
        }
        if let port, !(1...65_535).contains(port) { return nil }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-_:*")
        guard !host.isEmpty, host.allSatisfy({ allowed.contains($0) }) else { return nil }
        if host.contains("*") {
            guard host.hasPrefix("*."), !host.dropFirst(2).contains("*"), host.count > 2 else { return nil }
        }
        self.init(host: host, port: port)
    }

    public func matches(host candidate: String, port candidatePort: Int) -> Bool {
        let name = candidate.lowercased()
        let hostMatches: Bool
        if host.hasPrefix("*.") {
            hostMatches = name.hasSuffix(String(host.dropFirst(1)))
        } else {
            hostMatches = name == host
        }
        guard hostMatches else { return false }
        if let port { return port == candidatePort }
        return candidatePort == 443 || candidatePort == 80
    }

    public var description: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(name):\($0)" } ?? name
    }

    /// `@registries`: common package registries (PyPI, npm, crates.io, Go, RubyGems, Maven
    /// Central, GitHub's code downloads).
    public static let registries: [HostRule] = [
        "pypi.org", "files.pythonhosted.org", "registry.npmjs.org", "registry.yarnpkg.com", "crates.io", "static.crates.io",
        "index.crates.io", "proxy.golang.org", "sum.golang.org", "rubygems.org", "index.rubygems.org", "repo.maven.apache.org",
        "repo1.maven.org", "github.com", "codeload.github.com", "objects.githubusercontent.com",
    ].map { HostRule(host: $0) }

    /// Parses a list of entries, expanding `@registries`. Throws the first malformed entry.
    public static func parseList(_ entries: [String]) throws(SandboxError) -> [HostRule] {
        var rules: [HostRule] = []
        for entry in entries {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed.lowercased() == "@registries" { rules += registries; continue }
            guard let rule = HostRule(parsing: trimmed) else {
                throw .invalidArgument("not a host or host:port: '\(entry)'")
            }
            rules.append(rule)
        }
        return rules
    }
}

/// An upstream API that sandboxed processes reach through the gateway at
/// `<gateway>/<name>/…`, with ``headers`` set on the way out (replacing what the sandbox sent,
/// and `x-api-key` and `authorization` always dropped from the sandbox's request).
public struct GatewayService: Sendable, Hashable {
    /// Path prefix: letters, digits and `-`.
    public var name: String
    /// Base URL the rest of the path is appended to (`https://api.anthropic.com`).
    public var upstream: URL
    /// Headers added upstream (credentials).
    public var headers: [String: String]
    /// Watches and limits the requests of this service (ca's cost cap); not part of equality.
    public var meter: GatewayServiceMeter?

    public init(name: String, upstream: URL, headers: [String: String], meter: GatewayServiceMeter? = nil) {
        self.name = name
        self.upstream = upstream
        self.headers = headers
        self.meter = meter
    }

    public static func == (a: GatewayService, b: GatewayService) -> Bool {
        a.name == b.name && a.upstream == b.upstream && a.headers == b.headers
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(upstream)
        hasher.combine(headers)
    }
}

/// A seam for whoever owns a sandbox to watch and limit one ``GatewayService``: before a
/// request goes upstream it may be refused, and each response body is shown to an observer.
///
/// Both closures are called from network threads: keep them short and non-blocking.
public struct GatewayServiceMeter: Sendable {
    /// A refusal answered to the sandbox instead of forwarding the request.
    public struct Refusal: Sendable, Hashable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        public init(status: Int, headers: [String: String], body: Data) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// Decides on a request (method, path below the service): `nil` lets it through.
    public var admit: @Sendable (_ method: String, _ path: String) -> Refusal?
    /// Makes the observer of one forwarded response's body: called with each chunk, then with
    /// `nil` at the end (also when the response broke off).
    public var observeResponse: @Sendable () -> @Sendable (Data?) -> Void

    public init(admit: @escaping @Sendable (_ method: String, _ path: String) -> Refusal?,
                observeResponse: @escaping @Sendable () -> @Sendable (Data?) -> Void) {
        self.admit = admit
        self.observeResponse = observeResponse
    }
}

/// A connection the gateway's proxy allowed or denied.
public struct SandboxNetworkEvent: Sendable, Hashable {
    public enum Decision: String, Sendable, Hashable {
        case allowed
        case denied
    }

    public var decision: Decision
    /// `CONNECT` or the HTTP method of a plain `http://` request.
    public var method: String
    public var host: String
    public var port: Int
    /// Why it was denied, or a note.
    public var reason: String?

    public init(decision: Decision, method: String, host: String, port: Int, reason: String? = nil) {
        self.decision = decision
        self.method = method
        self.host = host
        self.port = port
        self.reason = reason
    }
}

/// How processes inside a sandbox reach ca's gateway.
public struct SandboxGatewayEndpoints: Sendable, Hashable {
    /// The HTTP proxy, for `HTTPS_PROXY` and `HTTP_PROXY` (`http://127.0.0.1:3128`).
    public var proxyURL: String
    /// `ProxyCommand` for ssh: connects stdin/stdout to `%h:%p` through the gateway.
    public var sshProxyCommand: String?

    public init(proxyURL: String, sshProxyCommand: String? = nil) {
        self.proxyURL = proxyURL
        self.sshProxyCommand = sshProxyCommand
    }

    /// Base URL of a ``GatewayService`` inside the sandbox.
    public func serviceURL(_ name: String) -> String {
        "\(proxyURL)/\(name)"
    }

    /// Variables that send HTTP clients (curl, git, pip, npm, Claude Code's tools) through the
    /// proxy, and loopback around it.
    public var proxyEnvironment: [String: String] {
        var environment: [String: String] = [:]
        for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
            environment[name] = proxyURL
        }
        environment["NO_PROXY"] = "127.0.0.1,localhost"
        environment["no_proxy"] = "127.0.0.1,localhost"
        return environment
    }
}

import Foundation

/// Where GitHub is and how to authenticate: github.com, GitHub Enterprise Server or GHE.com.
public struct GitHubConfiguration: Sendable, Hashable {
    /// The web and git base, such as `https://github.com` or `https://ghes.example.com` (no trailing slash).
    public var serverURL: URL
    /// The REST base, such as `https://api.github.com` or `https://ghes.example.com/api/v3` (no trailing slash).
    public var apiURL: URL
    /// The token sent to GitHub, or `nil` to work unauthenticated (public reads only).
    public var token: String?

    /// github.com's web base.
    public static let defaultServerURL = URL(string: "https://github.com")!
    /// github.com's REST base.
    public static let defaultAPIURL = URL(string: "https://api.github.com")!

    /// Creates a configuration as given (see ``fromEnvironment(_:)`` for the validating way).
    public init(serverURL: URL, apiURL: URL, token: String?) {
        self.serverURL = serverURL
        self.apiURL = apiURL
        self.token = token
    }

    /// Reads `GITHUB_SERVER_URL`, `GITHUB_API_URL`, `GH_TOKEN` and `GITHUB_TOKEN`.
    ///
    /// - The server defaults to `https://github.com`, the API to `https://api.github.com`.
    /// - When only `GITHUB_SERVER_URL` is set and names another host, the API is derived: `https://api.TENANT.ghe.com`
    ///   for a `TENANT.ghe.com` server, else `<server>/api/v3` (GitHub Enterprise Server).
    /// - The token is `GH_TOKEN`, else `GITHUB_TOKEN`, trimmed; empty means none.
    /// - Empty variables count as unset.
    ///
    /// - Throws: ``GitHubError/invalidConfiguration(_:)`` for a URL that is not `http(s)://host…`, carries a user or
    ///   password, a query or a fragment, or for a token with whitespace or control characters inside.
    public static func fromEnvironment(_ environment: [String: String]) throws(GitHubError) -> GitHubConfiguration {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
            return raw
        }
        let serverURL = try value("GITHUB_SERVER_URL").map { text throws(GitHubError) in try parseBaseURL(text, variable: "GITHUB_SERVER_URL") }
        let apiURL = try value("GITHUB_API_URL").map { text throws(GitHubError) in try parseBaseURL(text, variable: "GITHUB_API_URL") }
        let server = serverURL ?? defaultServerURL
        let api = apiURL ?? serverURL.map(derivedAPIURL(forServer:)) ?? defaultAPIURL

        let token = value("GH_TOKEN") ?? value("GITHUB_TOKEN")
        if let token, token.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control || !$0.isASCII }) {
            let variable = value("GH_TOKEN") != nil ? "GH_TOKEN" : "GITHUB_TOKEN"
            throw .invalidConfiguration("\(variable) contains whitespace, control or non-ASCII characters")
        }
        return GitHubConfiguration(serverURL: server, apiURL: api, token: token)
    }

    /// The REST base for a web base: github.com's API, `api.TENANT.ghe.com`, or `<server>/api/v3`.
    static func derivedAPIURL(forServer server: URL) -> URL {
        guard var components = URLComponents(url: server, resolvingAgainstBaseURL: false),
              let host = components.host?.lowercased() else { return server }
        if host == "github.com" || host == "www.github.com" {
            return defaultAPIURL
        }
        if host.hasSuffix(".ghe.com"), !host.hasPrefix("api.") {
            components.host = "api." + host
            components.path = ""
            return components.url ?? server
        }
        components.path = trimmedPath(components.path) + "/api/v3"
        return components.url ?? server
    }

    /// Validates and normalizes a base URL from the environment (no trailing slash).
    static func parseBaseURL(_ text: String, variable: String) throws(GitHubError) -> URL {
        guard let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty else {
            throw .invalidConfiguration("\(variable) must be an http or https URL with a host")
        }
        if components.user != nil || components.password != nil {
            throw .invalidConfiguration("\(variable) must not contain a user name or password; give the token in GH_TOKEN")
        }
        if components.query != nil || components.fragment != nil {
            throw .invalidConfiguration("\(variable) must not contain a query or fragment")
        }
        var normalized = components
        normalized.scheme = scheme
        normalized.host = host.lowercased()
        normalized.path = trimmedPath(components.path)
        guard let url = normalized.url else {
            throw .invalidConfiguration("\(variable) is not a valid URL")
        }
        return url
    }

    private static func trimmedPath(_ path: String) -> String {
        var path = path
        while path.hasSuffix("/") { path.removeLast() }
        return path
    }

    /// The server base as a string without a trailing slash.
    var serverBase: String {
        var text = serverURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// The API base as a string without a trailing slash.
    var apiBase: String {
        var text = apiURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// The https (or http) URL to clone `repository` from: `<server>/owner/name.git`. It carries no credentials;
    /// give git ``gitConfiguration`` for those.
    public func cloneURL(for repository: GitHubRepository) -> String {
        "\(serverBase)/\(repository.owner)/\(repository.name).git"
    }

    /// The repository a URL points at, when it is an http(s) URL on this server (same scheme, host and port) whose
    /// path is `owner/name`, optionally with `.git` and a trailing slash; `nil` otherwise.
    ///
    /// Any user or password in `url` is ignored; URLs with a query or fragment are refused.
    public func repository(inURL url: String) -> GitHubRepository? {
        guard url.count <= 2048, let components = URLComponents(string: url),
              components.query == nil, components.fragment == nil,
              Self.sameOrigin(components, URLComponents(url: serverURL, resolvingAgainstBaseURL: false)) else { return nil }
        let basePath = Self.trimmedPath(serverURL.path)
        var path = components.percentEncodedPath
        guard path.hasPrefix(basePath + "/") else { return nil }
        path.removeFirst(basePath.count + 1)
        if path.hasSuffix("/") { path.removeLast() }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        return GitHubRepository(owner: String(parts[0]), name: String(parts[1]))
    }

    /// Whether two URLs have the same scheme, host (case-insensitive) and effective port.
    static func sameOrigin(_ lhs: URLComponents?, _ rhs: URLComponents?) -> Bool {
        guard let lhs, let rhs,
              let lhsScheme = lhs.scheme?.lowercased(), let rhsScheme = rhs.scheme?.lowercased(),
              lhsScheme == "http" || lhsScheme == "https",
              lhsScheme == rhsScheme,
              let lhsHost = lhs.host?.lowercased(), !lhsHost.isEmpty,
              lhsHost == rhs.host?.lowercased() else { return false }
        let defaultPort = lhsScheme == "https" ? 443 : 80
        return (lhs.port ?? defaultPort) == (rhs.port ?? defaultPort)
    }

    /// The value of the `Authorization` header git sends: `Basic base64("x-access-token:TOKEN")`, without the name.
    var basicCredentials: String? {
        guard let token else { return nil }
        return Data("x-access-token:\(token)".utf8).base64EncodedString()
    }

    /// git configuration entries that make git authenticate to this server with the token, to pass through
    /// `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` (never argv nor `.git/config`).
    ///
    /// With a token: one `http.<server>/.extraHeader` entry `Authorization: Basic <base64(x-access-token:TOKEN)>`,
    /// scoped to this server; without one: empty.
    public var gitConfiguration: [(key: String, value: String)] {
        guard let basicCredentials else { return [] }
        return [(key: "http.\(serverBase)/.extraHeader", value: "Authorization: Basic \(basicCredentials)")]
    }

    /// The strings to hide from logs and output: the token and its Basic-header form. Empty without a token.
    public var secrets: [String] {
        guard let token, let basicCredentials else { return [] }
        return [token, basicCredentials]
    }
}

import SandboxClient

/// Environment and helpers for running git non-interactively inside a sandbox.
enum GitEnvironment {
    /// git over https and ssh through ca's network gateway. Every host goes through it, loopback
    /// addresses too: a clone has nothing to fetch from the sandbox's own loopback.
    static func proxied(through gateway: SandboxGatewayEndpoints) -> [String: String] {
        var environment = gateway.proxyEnvironment
        environment["NO_PROXY"] = ""
        environment["no_proxy"] = ""
        if let proxyCommand = gateway.sshProxyCommand {
            environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ProxyCommand=\(quote(proxyCommand))"
        }
        return environment
    }

    /// Never prompt for credentials, never open an editor or pager, use a fixed identity.
    static let variables: [String: String] = [
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
        "GIT_PAGER": "cat",
        "GIT_EDITOR": "true",
        "GIT_AUTHOR_NAME": "ca", "GIT_AUTHOR_EMAIL": "ca@localhost",
        "GIT_COMMITTER_NAME": "ca", "GIT_COMMITTER_EMAIL": "ca@localhost",
        "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*",
    ]

    /// ``variables`` with more git configuration passed by environment (`GIT_CONFIG_KEY_n` /
    /// `GIT_CONFIG_VALUE_n`, appended after `safe.directory`): how a GitHub token reaches git
    /// (`http.<server>/.extraHeader`) without a URL, `.git/config` or argv ever holding it.
    static func variables(configuration: [(key: String, value: String)]) -> [String: String] {
        var environment = variables
        guard !configuration.isEmpty else { return environment }
        let first = Int(environment["GIT_CONFIG_COUNT"] ?? "0") ?? 0
        for (offset, entry) in configuration.enumerated() {
            environment["GIT_CONFIG_KEY_\(first + offset)"] = entry.key
            environment["GIT_CONFIG_VALUE_\(first + offset)"] = entry.value
        }
        environment["GIT_CONFIG_COUNT"] = String(first + configuration.count)
        return environment
    }

    /// The last non-empty line of some output (git puts the reason there).
    static func lastLine(of text: String) -> String? {
        text.split(whereSeparator: \.isNewline).last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
            .map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    /// Quotes a string for a POSIX shell.
    static func quote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

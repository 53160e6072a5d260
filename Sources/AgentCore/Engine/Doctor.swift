import Foundation
import GitHubClient
import SandboxClient

/// Checks that ca can run tasks here: credentials, the local backend, and each cloud backend
/// (reach the API, start a sandbox from the template, look for the tools, start services).
public struct Doctor: Sendable {
    /// The result of one check.
    public struct Check: Sendable, Hashable, Codable {
        public enum Outcome: String, Sendable, Codable { case pass, fail, skip }
        public var name: String
        public var outcome: Outcome
        public var detail: String
    }

    let backends: SandboxBackends
    let environment: [String: String]
    let redactor: SecretRedactor

    public init(backends: SandboxBackends, environment: [String: String]) {
        self.backends = backends
        self.environment = environment
        let secretNames = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "NOVITA_API_KEY", "E2B_API_KEY", "GH_TOKEN", "GITHUB_TOKEN"]
        self.redactor = SecretRedactor(secrets: secretNames.compactMap { environment[$0] } + AgentCredentials.fromEnvironment(environment).secrets)
    }

    /// What `claude --version` printed for one Claude Code binary.
    struct AgentVersion: Sendable, Hashable {
        /// The binary that was asked.
        var executable: String
        /// Its first output line, such as `2.1.332 (Claude Code)`.
        var text: String
        /// The version number (the first word of ``text``), `nil` when it did not answer.
        var version: String?

        init(executable: String, output: String, succeeded: Bool) {
            self.executable = executable
            self.text = output.split(whereSeparator: \.isNewline).first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            self.version = succeeded ? text.split(separator: " ").first.map(String.init) : nil
        }
    }

    /// Runs every check for the given backends (default: local plus every configured cloud backend).
    public func run(backends names: [SandboxKind]? = nil) async -> [Check] {
        var checks: [Check] = []
        let credentials = AgentCredentials.fromEnvironment(environment)
        checks.append(Check(name: "anthropic credentials", outcome: credentials.isUsable ? .pass : .fail,
                            detail: credentials.isUsable ? (credentials.apiKey != nil ? "ANTHROPIC_API_KEY is set" : "ANTHROPIC_AUTH_TOKEN is set")
                                : "set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)"))
        checks.append(await github())
        // The local binary's version is compared with each cloud template's.
        let localAgent = await localAgentVersion()
        for name in names ?? backends.configured {
            if name == .local { checks += await local(agent: localAgent) } else { checks += await cloud(name, localAgent: localAgent) }
        }
        return checks.map { Check(name: $0.name, outcome: $0.outcome, detail: redactor.redact($0.detail)) }
    }

    /// GitHub: without a token, public repositories only; with one, whom GitHub takes it for.
    func github() async -> Check {
        let configuration: GitHubConfiguration
        do { configuration = try GitHubAccess.configuration(from: environment) } catch {
            return Check(name: "github", outcome: .fail, detail: error.description)
        }
        guard configuration.token != nil else {
            return Check(name: "github", outcome: .skip,
                         detail: "no GH_TOKEN or GITHUB_TOKEN: public repositories only (--open-pr and pr review --post need one)")
        }
        let api = GitHubAccess(configuration: configuration, httpClient: backends.httpClient.client).api
        do {
            let user = try await api.authenticatedUser()
            return Check(name: "github", outcome: .pass, detail: "the token is \(user.login)'s on \(configuration.apiURL.absoluteString)")
        } catch {
            return Check(name: "github", outcome: .fail, detail: error.description)
        }
    }

    /// `claude --version` of the binary local sandboxes run.
    func localAgentVersion() async -> Result<AgentVersion, TaskError> {
        do {
            let claude = try backends.agentExecutable(for: .local)
            let output = try await HostCommand.run(claude, ["--version"], environment: ["PATH": environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()])
            return .success(AgentVersion(executable: claude, output: String(decoding: output.stdout, as: UTF8.self), succeeded: output.status == 0))
        } catch {
            return .failure(error)
        }
    }

    func local(agent: Result<AgentVersion, TaskError>) async -> [Check] {
        var checks: [Check] = []
        let path = environment["PATH"]
        if let git = HostCommand.which("git", path: path) {
            checks.append(Check(name: "local: git", outcome: .pass, detail: git))
        } else {
            checks.append(Check(name: "local: git", outcome: .fail, detail: "install it with: apt-get install git"))
        }
        switch agent {
        case .success(let agent):
            checks.append(Check(name: "local: claude", outcome: agent.version != nil ? .pass : .fail, detail: "\(agent.executable) \(agent.text)"))
        case .failure(let error):
            checks.append(Check(name: "local: claude", outcome: .fail, detail: error.description))
        }
        // A sandbox with the network of a task: the minimal root, not root, and the bridge to ca's gateway.
        let network = SandboxNetwork(access: .allowlist([]), services: [AgentCredentials.fromEnvironment(environment).gatewayService])
        checks += await withSandbox(.local, label: "local: bwrap sandbox", network: network) { sandbox, label in
            let isolation = await scriptCheck(label, in: sandbox, script: """
                test -w /home/user && ! test -w /usr && ! test -e /etc/shadow && ! test -e /root && ! test -e /var/lib && ! test -e /srv || { echo "the sandbox sees too much of the host" >&2; exit 1; }
                echo "isolated: minimal read-only root, running as uid $(id -u), own network"
                """)
            guard sandbox.networkGateway != nil else {
                return [isolation, Check(name: "local: network gateway", outcome: .skip, detail: "no isolation: the sandbox shares the host network")]
            }
            let bridge = await scriptCheck("local: network gateway", in: sandbox, script: """
                exec 3<>/dev/tcp/127.0.0.1/3128 && printf 'GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n' >&3 && head -n1 <&3 | grep -q 404 \
                  && echo "ca's gateway answers at 127.0.0.1:3128 inside" || { echo "the bridge to ca's gateway does not answer" >&2; exit 1; }
                """)
            return [isolation, bridge]
        }
        return checks
    }

    func cloud(_ name: SandboxKind, localAgent: Result<AgentVersion, TaskError>) async -> [Check] {
        var checks: [Check] = []
        let provider: any SandboxProvider
        do { provider = try backends.provider(named: name) } catch {
            return [Check(name: "\(name): configuration", outcome: .fail, detail: error.description)]
        }
        checks.append(Check(name: "\(name): configuration", outcome: .pass, detail: "API key set"))
        do {
            let live = try await provider.list(metadata: [:])
            checks.append(Check(name: "\(name): API", outcome: .pass, detail: "reachable; \(live.count) live sandbox\(live.count == 1 ? "" : "es")"))
        } catch {
            checks.append(Check(name: "\(name): API", outcome: .fail, detail: error.description))
            return checks
        }
        checks += await withSandbox(name, provider: provider, label: "\(name): template \(backends.defaultTemplate)") { sandbox, label in
            let tools = await scriptCheck(label, in: sandbox, script: """
                missing=""; for t in claude gh git uv; do command -v $t >/dev/null || missing="$missing $t"; done
                if [ -n "$missing" ]; then echo "missing:$missing" >&2; exit 3; fi
                start-services >/dev/null && echo "claude gh git uv present; services started"
                """)
            return [tools, await versionCheck(name, in: sandbox, localAgent: localAgent)]
        }
        return checks
    }

    /// Compares the template's `claude --version` with the local binary's: both backends should
    /// run the one version pinned in `template/claude-code-version`.
    func versionCheck(_ name: SandboxKind, in sandbox: any Sandbox, localAgent: Result<AgentVersion, TaskError>) async -> Check {
        let label = "\(name): claude version"
        let remote: String
        do { remote = try backends.agentExecutable(for: name) } catch { return Check(name: label, outcome: .skip, detail: error.description) }
        let result: CommandResult
        do {
            result = try await sandbox.run(script: "command -v \(GitEnvironment.quote(remote)) >/dev/null || exit 127; \(GitEnvironment.quote(remote)) --version")
        } catch {
            return Check(name: label, outcome: .fail, detail: error.description)
        }
        if result.exit.code == 127 {
            return Check(name: label, outcome: .skip, detail: "no \(remote) in the template to compare")
        }
        let template = AgentVersion(executable: remote, output: result.stdoutText, succeeded: result.exit.succeeded)
        guard let templateVersion = template.version else {
            let message = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            return Check(name: label, outcome: .fail, detail: "\(remote) --version failed in the template: \(message.isEmpty ? result.exit.status : message)")
        }
        guard case .success(let local) = localAgent, let localVersion = local.version else {
            return Check(name: label, outcome: .skip, detail: "template: \(templateVersion); the local version is unknown")
        }
        guard templateVersion == localVersion else {
            return Check(name: label, outcome: .fail, detail: """
                version mismatch: the template has Claude Code \(templateVersion), the local backend \(localVersion) (\(local.executable)); \
                both should be the version in template/claude-code-version: rebuild the template (template/README.md) \
                or fetch the pinned binary (scripts/fetch-claude.sh)
                """)
        }
        return Check(name: label, outcome: .pass, detail: "\(templateVersion), as the local backend")
    }

    /// Starts a sandbox, hands it to `body` with the check's label, kills it. Uses `provider` when
    /// the caller already has the backend's, else builds it.
    func withSandbox(_ name: SandboxKind, provider: (any SandboxProvider)? = nil, label: String, network: SandboxNetwork = .offline,
                     _ body: (any Sandbox, String) async -> [Check]) async -> [Check] {
        let sandbox: any Sandbox
        do {
            let provider = if let provider { provider } else { try backends.provider(named: name) }
            do {
                sandbox = try await provider.create(SandboxSpec(template: backends.defaultTemplate, lifetime: 120, metadata: ["ca.doctor": "1"],
                                                                network: network))
            } catch { return [Check(name: label, outcome: .fail, detail: "cannot start a sandbox: \(error.description)")] }
        } catch {
            return [Check(name: label, outcome: .fail, detail: error.description)]
        }
        let checks = await body(sandbox, label)
        try? await sandbox.kill()
        return checks
    }

    /// Runs a script in a sandbox: passes with its output when it succeeds, else fails with its
    /// error output.
    func scriptCheck(_ label: String, in sandbox: any Sandbox, script: String) async -> Check {
        let result: CommandResult
        do { result = try await sandbox.run(script: script) } catch {
            return Check(name: label, outcome: .fail, detail: error.description)
        }
        let detail = (result.exit.succeeded ? result.stdoutText : (result.stderrText.isEmpty ? result.exit.status : result.stderrText))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return Check(name: label, outcome: result.exit.succeeded ? .pass : .fail, detail: detail)
    }
}

import Foundation
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
        let secretNames = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "NOVITA_API_KEY", "E2B_API_KEY"]
        self.redactor = SecretRedactor(secrets: secretNames.compactMap { environment[$0] } + AgentCredentials.fromEnvironment(environment).secrets)
    }

    /// Runs every check for the given backends (default: local plus every configured cloud backend).
    public func run(backends names: [String]? = nil) async -> [Check] {
        var checks: [Check] = []
        let credentials = AgentCredentials.fromEnvironment(environment)
        checks.append(Check(name: "anthropic credentials", outcome: credentials.isUsable ? .pass : .fail,
                            detail: credentials.isUsable ? (credentials.apiKey != nil ? "ANTHROPIC_API_KEY is set" : "ANTHROPIC_AUTH_TOKEN is set")
                                : "set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)"))
        for name in names ?? backends.configured {
            if name == "local" { checks += await local() } else { checks += await cloud(name) }
        }
        return checks.map { Check(name: $0.name, outcome: $0.outcome, detail: redactor.redact($0.detail)) }
    }

    func local() async -> [Check] {
        var checks: [Check] = []
        let path = environment["PATH"]
        if let git = HostCommand.which("git", path: path) {
            checks.append(Check(name: "local: git", outcome: .pass, detail: git))
        } else {
            checks.append(Check(name: "local: git", outcome: .fail, detail: "install it with: apt-get install git"))
        }
        do {
            let claude = try backends.agentExecutable(for: "local")
            let version = try await HostCommand.run(claude, ["--version"], environment: ["PATH": path ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()])
            let text = String(decoding: version.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            checks.append(Check(name: "local: claude", outcome: version.status == 0 ? .pass : .fail, detail: "\(claude) \(text)"))
        } catch {
            checks.append(Check(name: "local: claude", outcome: .fail, detail: error.description))
        }
        checks.append(await sandboxCheck("local", probe: "bwrap sandbox", script: "test -w /home/user && ! test -w /usr && echo isolated"))
        return checks
    }

    func cloud(_ name: String) async -> [Check] {
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
        checks.append(await sandboxCheck(name, provider: provider, probe: "template \(backends.defaultTemplate)", script: """
            missing=""; for t in claude gh git uv; do command -v $t >/dev/null || missing="$missing $t"; done
            if [ -n "$missing" ]; then echo "missing:$missing" >&2; exit 3; fi
            start-services >/dev/null && echo "claude gh git uv present; services started"
            """))
        return checks
    }

    /// Starts a sandbox, runs a script in it, kills it. Uses `provider` when the caller already has
    /// the backend's, else builds it.
    func sandboxCheck(_ name: String, provider: (any SandboxProvider)? = nil, probe: String, script: String) async -> Check {
        let label = "\(name): \(probe)"
        do {
            let provider = if let provider { provider } else { try backends.provider(named: name) }
            let sandbox: any Sandbox
            do {
                sandbox = try await provider.create(SandboxSpec(template: backends.defaultTemplate, lifetime: 120, metadata: ["ca.doctor": "1"]))
            } catch { return Check(name: label, outcome: .fail, detail: "cannot start a sandbox: \(error.description)") }
            let result: CommandResult
            do { result = try await sandbox.run(script: script) } catch {
                try? await sandbox.kill()
                return Check(name: label, outcome: .fail, detail: error.description)
            }
            try? await sandbox.kill()
            let detail = (result.exit.succeeded ? result.stdoutText : (result.stderrText.isEmpty ? result.exit.status : result.stderrText))
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return Check(name: label, outcome: result.exit.succeeded ? .pass : .fail, detail: detail)
        } catch {
            return Check(name: label, outcome: .fail, detail: error.description)
        }
    }
}

import AgentCore
import ArgumentParser
import Foundation

/// The `ca` command: run AI coding agents on prompts inside isolated sandboxes.
struct CA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Run AI coding agents on natural-language prompts inside isolated sandboxes.",
        discussion: """
        ca starts a sandbox, clones a repository into it, runs Claude Code headless on your prompt, \
        records every event in a local SQLite history, and saves the files the agent changed under \
        ~/.local/share/ca/tasks/<id>/ (or $CA_HOME/tasks/<id>/).

        ENVIRONMENT
          ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, ANTHROPIC_BASE_URL  credentials for the agent
          CA_HOME            where ca keeps its database and task folders
          CA_CLAUDE_BIN      path of the Claude Code binary (default: claude on PATH)
          CA_SANDBOX         default sandbox backend: local, novita or e2b
          CA_TEMPLATE        sandbox template for novita/e2b (default cloud-agent-v1)
          NOVITA_API_KEY, NOVITA_DOMAIN, NOVITA_API_URL, NOVITA_SANDBOX_URL  Novita settings
          E2B_API_KEY, E2B_DOMAIN, E2B_API_URL, E2B_SANDBOX_URL              E2B settings
          CA_IDLE_TIMEOUT    stop an agent that prints nothing for this long (default 10m)
          CA_NETWORK         default --network of local sandboxes: none, allowlist or open
          CA_ALLOW_HOSTS     hosts local sandboxes may reach besides the API and the repository
          CA_RO_PATHS        host paths local sandboxes see read-only (colon-separated)
          CA_SANDBOX_USER    user local sandboxes run as when ca runs as root (default nobody)
          GH_TOKEN, GITHUB_TOKEN  GitHub token for private repositories, --open-pr and `ca pr review --post`
          GITHUB_SERVER_URL, GITHUB_API_URL  GitHub (Enterprise) web and API URLs
                             (default https://github.com and https://api.github.com)

        EXIT CODES
          0   success (the task succeeded)
          1   the task failed
          2   the task was cancelled
          3   the task timed out
          4   `ca task wait --timeout` gave up before the task ended
          10  no such task, or an ambiguous id prefix; a GitHub repository, pull request or issue not found
          11  setup problem: missing credentials, bwrap, claude, or an unreachable repository;
              no GitHub token, or GitHub refused it or rate-limited ca
          64  invalid command line
          70  internal error (database, file system)
        """,
        version: CAVersion.current,
        subcommands: [TaskCommand.self, PullRequestCommand.self, SandboxCommand.self, DoctorCommand.self, ServeCommand.self, KeysCommand.self]
    )
}

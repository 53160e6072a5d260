import Foundation
import SandboxClient

/// The agent's output stream, recorded in a cloud sandbox as it is produced, so that a runner
/// which lost the connection (a restarted server) can read on from the last byte it stored.
///
/// The agent runs under a small shell wrapper: its stdout goes through `tee` into
/// ``streamPath`` (and on to ca as before), the wrapper writes its own pid to ``pidPath`` and the
/// agent's exit code to ``exitPath``. A runner that re-attaches follows the recording from its
/// stored offset with `tail -c +N --pid=…  -f`, which ends once the wrapper is gone and the
/// file is read to its end.
///
/// What is read back is as untrusted as the live stream (the agent can write to these files);
/// it is bounded and parsed the same way.
public struct AgentRecording: Sendable, Hashable {
    /// The folder of the recording in the sandbox.
    public let folder: String

    public init(layout: SandboxLayout) {
        folder = layout.home + "/.ca-agent"
    }

    public var streamPath: String { folder + "/stream.jsonl" }
    public var pidPath: String { folder + "/pid" }
    public var exitPath: String { folder + "/exit" }

    /// The agent's command, recorded: same program, arguments, environment and folder.
    public func wrap(_ command: CommandSpec) -> CommandSpec {
        let program = ([command.executable] + command.arguments).map(GitEnvironment.quote).joined(separator: " ")
        let script = """
        mkdir -p \(GitEnvironment.quote(folder)) && echo $$ > \(GitEnvironment.quote(pidPath)) && rm -f \(GitEnvironment.quote(exitPath)) && \
        { \(program); echo $? > \(GitEnvironment.quote(exitPath)); } | tee \(GitEnvironment.quote(streamPath))
        """
        return CommandSpec(executable: "/bin/sh", arguments: ["-c", script], cwd: command.cwd,
                           environment: command.environment, stdin: false)
    }

    /// Kills the wrapper and every process under it (the agent, its tools, `tee`): a signal to the
    /// wrapper alone would leave the agent running, still writing into the stream.
    public var killTree: CommandSpec {
        let script = """
        t() { for c in $(pgrep -P "$1" 2>/dev/null || cat /proc/"$1"/task/*/children 2>/dev/null); do t "$c"; done; kill -KILL "$1" 2>/dev/null; }; \
        p=$(cat \(GitEnvironment.quote(pidPath)) 2>/dev/null | head -c 20 | tr -cd 0-9); if [ -n "$p" ]; then t "$p"; fi; true
        """
        return CommandSpec(shell: script)
    }

    /// Prints the recording from byte `offset` on, following it until the agent's wrapper has
    /// ended (at once when it already has).
    public func follow(from offset: Int) -> CommandSpec {
        let start = max(0, offset) + 1
        let script = """
        p=$(cat \(GitEnvironment.quote(pidPath)) 2>/dev/null | head -c 20 | tr -cd 0-9); \
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then exec tail -c +\(start) --pid="$p" -f \(GitEnvironment.quote(streamPath)); \
        else exec tail -c +\(start) \(GitEnvironment.quote(streamPath)); fi
        """
        return CommandSpec(shell: script)
    }

    /// The agent's exit code from the recording's `exit` file, if it ended and wrote one.
    public static func exitCode(_ data: Data) -> Int32? {
        let text = String(decoding: data.prefix(32), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= 4, let code = Int32(text), (0...255).contains(code) else { return nil }
        return code
    }
}

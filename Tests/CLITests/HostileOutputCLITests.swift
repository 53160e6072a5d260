import CATestSupport
import Foundation
import Testing

/// The host side of ca against hostile agent output, through the real `ca` executable: nothing
/// crashes it, its memory stays bounded (peak RSS measured with `wait4`), and nothing reaches
/// the user's terminal as control codes.
@Suite(.serialized) struct HostileOutputCLITests {
    static let apiKey = "sk-ant-hostile-SECRET-\(UUID().uuidString.prefix(8))"

    struct Setup {
        let root: URL
        let fixture: GitFixture
        let fake: FakeAnthropicServer
        let environment: [String: String]
        var cli: CLI { CLI(environment: environment) }
        func cleanup() async { try? await fake.stop(); try? FileManager.default.removeItem(at: root) }

        /// Runs `ca task create` against the fixture, measuring the process.
        func create(_ prompt: String, extra: [String: String] = [:]) async throws -> MeasuredProcess.Result {
            try await MeasuredProcess.run(CABinary.path, ["task", "create", prompt, "--repo", fixture.bare.path, "--json"],
                                          environment: environment.merging(extra) { _, new in new })
        }
    }

    func setup(_ script: [ScriptedTurn] = []) async throws -> Setup {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-hostile-\(UUID().uuidString.prefix(8))")
        let fixture = try GitFixture.make(in: root.appendingPathComponent("git"))
        let fake = FakeAnthropicServer(script: script)
        try await fake.start()
        let environment = [
            "CA_HOME": root.appendingPathComponent("home").path,
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "ANTHROPIC_API_KEY": Self.apiKey,
            "ANTHROPIC_BASE_URL": fake.baseURL.absoluteString,
            "CA_CLAUDE_BIN": try ClaudeBinary.locate().path,
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "CA_SANDBOX": "local",
        ]
        return Setup(root: root, fixture: fixture, fake: fake, environment: environment)
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test func hugeSparseTranscriptIsRefusedWithoutReadingIt() async throws {
        let s = try await setup([
            .toolUse("Bash", ["command": "echo ok", "description": "baseline"]), .text("Baseline done."),
            .toolUse("Bash", ["command": #"for f in "$CLAUDE_CONFIG_DIR"/projects/*/*.jsonl; do truncate -s 512M "$f"; done; ls -la "$CLAUDE_CONFIG_DIR"/projects/*/"#,
                              "description": "inflate the transcript"]),
            .text("Transcript inflated."),
        ])
        defer { Task { await s.cleanup() } }
        // The same task without the inflation, measured in the same run, is the baseline.
        let baseline = try await s.create("baseline")
        #expect(baseline.status == 0, "stderr: \(baseline.stderr)")
        let hostile = try await s.create("inflate")
        #expect(hostile.status == 0, "stderr: \(hostile.stderr)")
        let task = Self.json(hostile.stdout)
        #expect(task["status"] as? String == "succeeded")
        let id = try #require(task["id"] as? String)
        let files = try await s.cli.run(["task", "files", id, "--json"])
        let artifacts = Self.json(files.stdout)["artifacts"] as? [[String: Any]] ?? []
        #expect(artifacts.contains { ($0["path"] as? String) == "transcript.jsonl" && ($0["kind"] as? String) == "skipped"
            && (($0["note"] as? String) ?? "").contains("limit") }, "artifacts: \(artifacts)")
        print("hostile output: 512 MiB sparse transcript: peak RSS \(hostile.peakResidentBytes >> 20) MiB, baseline \(baseline.peakResidentBytes >> 20) MiB")
        // Nothing of it was copied into CA_HOME, and memory stayed where a normal task is.
        #expect(baseline.peakResidentBytes > 1 << 20, "the measurement itself failed")
        #expect(!FileManager.default.fileExists(atPath: s.root.appendingPathComponent("home/tasks/\(id)/transcript.jsonl").path))
        #expect(hostile.peakResidentBytes < baseline.peakResidentBytes + (32 << 20),
                "peak RSS \(hostile.peakResidentBytes >> 20) MiB against a baseline of \(baseline.peakResidentBytes >> 20) MiB")
    }

    /// A STAND-IN agent (a shell script) prints a 16 MiB line without a newline and a `result`
    /// line with `Int.max` token counts and an absurd cost: exact bytes on stdout that the real
    /// Claude Code never prints, as a broken or hostile agent binary could.
    @Test func multiMegabyteLineAndIntMaxCountsNeitherCrashNorBloat() async throws {
        let s = try await setup()
        defer { Task { await s.cleanup() } }
        try FileManager.default.createDirectory(at: s.root.appendingPathComponent("bin"), withIntermediateDirectories: true)
        let quiet = s.root.appendingPathComponent("bin/quiet-agent").path
        try await ExecutableScript.write("""
        #!/bin/sh
        echo '{"type":"system","subtype":"init","session_id":"s-quiet","model":"stand-in"}'
        echo '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"quiet","session_id":"s-quiet","total_cost_usd":0.01,"usage":{"input_tokens":1,"output_tokens":1}}'
        """, to: quiet)
        let loud = s.root.appendingPathComponent("bin/loud-agent").path
        try await ExecutableScript.write("""
        #!/bin/sh
        echo '{"type":"system","subtype":"init","session_id":"s-loud","model":"stand-in"}'
        head -c 16777216 /dev/zero | tr '\\000' x
        echo
        echo '{"type":"assistant","message":{"content":[{"type":"text","text":"after the long line"}]},"session_id":"s-loud"}'
        echo '{"type":"result","subtype":"success","is_error":false,"num_turns":1e300,"result":"survived","session_id":"s-loud","total_cost_usd":1e308,"usage":{"input_tokens":9223372036854775807,"cache_creation_input_tokens":9223372036854775807,"cache_read_input_tokens":1e300,"output_tokens":9223372036854775807}}'
        """, to: loud)
        let baseline = try await s.create("quiet", extra: ["CA_CLAUDE_BIN": quiet])
        #expect(baseline.status == 0, "stderr: \(baseline.stderr)")
        let hostile = try await s.create("loud", extra: ["CA_CLAUDE_BIN": loud])
        #expect(hostile.status == 0, "stderr: \(hostile.stderr)")
        let task = Self.json(hostile.stdout)
        #expect(task["result"] as? String == "survived")
        #expect((task["input_tokens"] as? NSNumber)?.int64Value == Int64.max)
        #expect((task["num_turns"] as? NSNumber)?.int64Value == Int64.max)
        let id = try #require(task["id"] as? String)
        let logs = try await s.cli.run(["task", "logs", id])
        #expect(logs.stdout.contains("dropped an output line of 16777216 bytes"), "logs: \(logs.stdout.prefix(2000))")
        #expect(logs.stdout.contains("after the long line"))
        print("hostile output: 16 MiB line: peak RSS \(hostile.peakResidentBytes >> 20) MiB, baseline \(baseline.peakResidentBytes >> 20) MiB")
        // The 16 MiB line was never held whole: memory stays near the quiet baseline.
        #expect(baseline.peakResidentBytes > 1 << 20, "the measurement itself failed")
        #expect(hostile.peakResidentBytes < baseline.peakResidentBytes + (24 << 20),
                "peak RSS \(hostile.peakResidentBytes >> 20) MiB against a baseline of \(baseline.peakResidentBytes >> 20) MiB")
        // `get` and `list` print the absurd numbers without trapping.
        let get = try await s.cli.run(["task", "get", id])
        #expect(get.status == 0)
        #expect(get.stdout.contains("9223372036854775807"))
    }

    @Test func controlCharactersNeverReachTheTerminal() async throws {
        let hostileText = "\u{1B}]52;c;cHduZWQ=\u{07}clipboard \u{1B}]0;window title\u{07}then\rSPOOF \u{1B}[2J\u{9B}31m bidi\u{202E}txt.exe"
        let s = try await setup([
            .toolUse("Write", ["file_path": .string("{{cwd}}/evil\u{1B}]0;pwned\u{07}.txt"), "content": "x\n"], text: hostileText),
            .toolUse("Bash", ["command": .string("printf 'tool \\033]52;c;Zm9v\\007 output\\n'"), "description": .string("beep\u{07}")]),
            .text("Done \u{1B}[31mred\u{1B}[0m."),
        ])
        defer { Task { await s.cleanup() } }
        let run = try await s.cli.run(["task", "create", "be hostile", "--repo", s.fixture.bare.path])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let list = try await s.cli.run(["task", "list", "--json"])
        let tasks = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8))) as? [[String: Any]] ?? []
        let taskID = try #require(tasks.first?["id"] as? String)
        let logs = try await s.cli.run(["task", "logs", taskID])
        let files = try await s.cli.run(["task", "files", taskID])
        let get = try await s.cli.run(["task", "get", taskID])
        for (name, output) in [("create", run.stdout), ("logs", logs.stdout), ("files", files.stdout), ("get", get.stdout)] {
            let scalars = output.unicodeScalars
            #expect(!scalars.contains { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || $0.value == 0x7F || (0x80...0x9F).contains($0.value) || $0.value == 0x202E },
                    "\(name) printed a control character: \(output.debugDescription.prefix(400))")
        }
        #expect(logs.stdout.contains(#"\x1B]52;c;cHduZWQ=\x07clipboard"#))
        #expect(logs.stdout.contains(#"then\rSPOOF"#))
        #expect(files.stdout.contains(#"evil\x1B]0;pwned\x07.txt"#))
        // --json stays exact: the same characters, as JSON escapes.
        let jsonLogs = try await s.cli.run(["task", "logs", taskID, "--json"])
        #expect(!jsonLogs.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x9B })
        let decoded = jsonLogs.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
        #expect(decoded.count == jsonLogs.stdout.split(separator: "\n").count)
        #expect(jsonLogs.stdout.contains(#"\u001b]52;c;cHduZWQ="#) || jsonLogs.stdout.contains(#"\u001B]52;c;cHduZWQ="#))
        let jsonFiles = try await s.cli.run(["task", "files", taskID, "--json"])
        let artifacts = Self.json(jsonFiles.stdout)["artifacts"] as? [[String: Any]] ?? []
        #expect(artifacts.contains { ($0["path"] as? String) == "evil\u{1B}]0;pwned\u{07}.txt" })
    }
}

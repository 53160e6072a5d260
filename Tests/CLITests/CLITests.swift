import CATestSupport
import Foundation
import Testing

/// The `ca` executable end to end: flags, exit codes, `--json`, detach, cancel, crash recovery.
@Suite(.serialized) struct CLITests {
    static let apiKey = "sk-ant-cli-SECRET-\(UUID().uuidString.prefix(8))"

    struct Setup {
        let root: URL
        let fixture: GitFixture
        let fake: FakeAnthropicServer
        let cli: CLI
        func cleanup() async { try? await fake.stop(); try? FileManager.default.removeItem(at: root) }
    }

    func setup(_ script: [ScriptedTurn]) async throws -> Setup {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-cli-\(UUID().uuidString.prefix(8))")
        let fixture = try GitFixture.make(in: root.appendingPathComponent("git"))
        let fake = FakeAnthropicServer(script: script)
        try await fake.start()
        let env = [
            "CA_HOME": root.appendingPathComponent("home").path,
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "ANTHROPIC_API_KEY": Self.apiKey,
            "ANTHROPIC_BASE_URL": fake.baseURL.absoluteString,
            "CA_CLAUDE_BIN": try ClaudeBinary.locate().path,
            "CLAUDE_CODE_MAX_RETRIES": "0",
        ]
        return Setup(root: root, fixture: fixture, fake: fake, cli: CLI(environment: env))
    }

    @Test func foregroundTaskPrintsProgressAndJSONFieldsAreStable() async throws {
        let s = try await setup([
            .toolUse("Bash", ["command": "echo hi > out.txt"], text: "Working on it."),
            .text("Finished."),
        ])
        defer { Task { await s.cleanup() } }
        let plain = try await s.cli.run(["task", "create", "make out.txt", "--repo", "file://" + s.fixture.bare.path])
        #expect(plain.status == 0, "stderr: \(plain.stderr)")
        #expect(plain.stdout.contains("⚙ Bash echo hi > out.txt"))
        #expect(plain.stdout.contains("Working on it."))
        #expect(plain.stdout.contains("succeeded"))
        #expect(plain.stdout.contains("files: "))

        s.fake.append([.text("Second run.")])
        let json = try await s.cli.run(["task", "create", "again", "--repo", s.fixture.bare.path, "--json"])
        #expect(json.status == 0, "stderr: \(json.stderr)")
        let object = try #require(json.json)
        for key in ["id", "status", "prompt", "repository_url", "branch", "parent_id", "sandbox_id", "session_id", "cost_usd",
                    "input_tokens", "output_tokens", "num_turns", "result", "error", "created_at", "started_at", "finished_at", "files_dir"] {
            #expect(object.keys.contains(key), "missing \(key)")
        }
        #expect(object["status"] as? String == "succeeded")
        #expect(object["result"] as? String == "Second run.")
        let id = try #require(object["id"] as? String)

        // get / list / logs / files / diff, by unique prefix.
        let get = try await s.cli.run(["task", "get", String(id.prefix(10)), "--json"])
        #expect(get.json?["id"] as? String == id)
        let list = try await s.cli.run(["task", "list", "--json", "--status", "succeeded"])
        let items = try #require((try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8))) as? [[String: Any]])
        #expect(items.count == 2)
        let logs = try await s.cli.run(["task", "logs", id, "--json"])
        let lines = logs.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.contains { $0["type"] as? String == "result" })
        #expect(lines.allSatisfy { $0["seq"] is Int && $0["data"] is [String: Any] })
        let firstID = try #require(items.last?["id"] as? String)
        let diff = try await s.cli.run(["task", "diff", firstID])
        #expect(diff.stdout.contains("+hi"))
        let files = try await s.cli.run(["task", "files", firstID, "--json"])
        #expect(files.stdout.contains("out.txt"))
    }

    @Test func badInputGetsClearErrorsAndDocumentedExitCodes() async throws {
        let s = try await setup([])
        defer { Task { await s.cleanup() } }
        let unknown = try await s.cli.run(["task", "get", "zzzzzz"])
        #expect(unknown.status == 10)
        #expect(unknown.stderr.contains("no task with id 'zzzzzz'"))

        let badTimeout = try await s.cli.run(["task", "create", "x", "--repo", s.fixture.bare.path, "--timeout", "soon"])
        #expect(badTimeout.status == 64)
        #expect(badTimeout.stderr.contains("invalid --timeout 'soon'"))

        let badStatus = try await s.cli.run(["task", "list", "--status", "done"])
        #expect(badStatus.status == 64)

        let missingRepo = try await s.cli.run(["task", "create", "x", "--repo", "/no/such/repo"])
        #expect(missingRepo.status == 11)
        #expect(missingRepo.stderr.contains("cannot reach repository /no/such/repo"))

        var noKey = s.cli
        noKey.environment["ANTHROPIC_API_KEY"] = nil
        let keyless = try await noKey.run(["task", "create", "x", "--repo", s.fixture.bare.path])
        #expect(keyless.status == 11)
        #expect(keyless.stderr.contains("ANTHROPIC_API_KEY"))

        var noClaude = s.cli
        noClaude.environment["CA_CLAUDE_BIN"] = nil
        noClaude.environment["PATH"] = "/usr/bin:/bin"
        let claudeless = try await noClaude.run(["task", "create", "x", "--repo", s.fixture.bare.path])
        #expect(claudeless.status == 11)
        #expect(claudeless.stderr.contains("Claude Code not found"))

        var noBwrap = s.cli
        let bin = s.root.appendingPathComponent("bin-without-bwrap")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for tool in ["git", "env", "bash", "sh"] { try? FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(tool).path, withDestinationPath: "/usr/bin/\(tool)") }
        noBwrap.environment["PATH"] = bin.path
        let bwrapless = try await noBwrap.run(["task", "create", "x", "--repo", s.fixture.bare.path])
        #expect(bwrapless.status == 11)
        #expect(bwrapless.stderr.contains("bwrap not found; install it with: apt-get install bubblewrap"))

        let noNovitaKey = try await s.cli.run(["task", "create", "x", "--repo", s.fixture.bare.path, "--sandbox", "novita"])
        #expect(noNovitaKey.status == 11)
        #expect(noNovitaKey.stderr.contains("NOVITA_API_KEY is not set"))
        let bogus = try await s.cli.run(["task", "create", "x", "--repo", s.fixture.bare.path, "--sandbox", "docker"])
        #expect(bogus.status == 64)
        #expect(bogus.stderr.contains("'docker' is invalid for '--sandbox"))
        // --keep-alive needs a backend that can pause: refused on the local one, as a usage error.
        let keptLocal = try await s.cli.run(["task", "create", "x", "--repo", s.fixture.bare.path, "--sandbox", "local", "--keep-alive", "10m"])
        #expect(keptLocal.status == 64)
        #expect(keptLocal.stderr.contains("--keep-alive needs a backend that can pause sandboxes"))
        let badKeep = try await s.cli.run(["task", "create", "x", "--repo", s.fixture.bare.path, "--keep-alive", "2d"])
        #expect(badKeep.status == 64)
        #expect(badKeep.stderr.contains("invalid --keep-alive '2d'"))
        // None of the refused commands left a task behind.
        #expect(try await s.cli.run(["task", "list"]).stdout.contains("no tasks"))

        let json = try await s.cli.run(["task", "get", "nothing", "--json"])
        #expect(json.json?["exit_code"] as? Int == 10)
        // No error message ever shows the key.
        for output in [unknown, badTimeout, missingRepo, claudeless] { #expect(!output.stderr.contains(Self.apiKey)) }
    }

    @Test func detachWaitAndCancel() async throws {
        let s = try await setup([.hang])
        defer { Task { await s.cleanup() } }
        let created = try await s.cli.run(["task", "create", "wait for me", "--repo", s.fixture.bare.path, "--detach"])
        #expect(created.status == 0, "stderr: \(created.stderr)")
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 13)
        #expect(await s.fake.waitForRequests(count: 1, timeout: .seconds(60)))
        let early = try await s.cli.run(["task", "wait", id, "--timeout", "1s"])
        #expect(early.status == 4)
        let started = Date()
        let cancel = try await s.cli.run(["task", "cancel", id])
        #expect(cancel.status == 0)
        #expect(cancel.stdout.contains("cancelled"))
        #expect(Date().timeIntervalSince(started) < 60, "cancel must not wait for the hanging agent (no deadline for an hour)")
        let waited = try await s.cli.run(["task", "wait", id, "--json"])
        #expect(waited.status == 2)
        #expect(waited.json?["status"] as? String == "cancelled")
        let sandboxes = s.root.appendingPathComponent("home/sandboxes")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: sandboxes.path)) ?? []).isEmpty)
    }

    @Test func killedRunnerIsRecoveredByTheNextCommand() async throws {
        let s = try await setup([.hang])
        defer { Task { await s.cleanup() } }
        let created = try await s.cli.run(["task", "create", "crash me", "--repo", s.fixture.bare.path, "--detach"])
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(await s.fake.waitForRequests(count: 1, timeout: .seconds(60)))
        let running = try await s.cli.run(["task", "get", id, "--json"])
        #expect(running.json?["status"] as? String == "running")
        let before = try await s.cli.run(["task", "logs", id, "--json"]).stdout.split(separator: "\n").count
        #expect(before > 0)

        // Find the runner's pid through /proc and kill -9 it.
        let pid = try #require(Self.runnerPID(taskID: id))
        kill(pid, SIGKILL)
        try await Task.sleep(for: .milliseconds(500))

        let list = try await s.cli.run(["task", "list"])
        #expect(list.stderr.contains("task \(id) was marked failed"))
        let after = try await s.cli.run(["task", "get", id, "--json"])
        #expect(after.json?["status"] as? String == "failed")
        #expect((after.json?["error"] as? String)?.contains("stopped unexpectedly") == true)
        // Events written before the crash are all still there.
        let logs = try await s.cli.run(["task", "logs", id, "--json"]).stdout.split(separator: "\n").count
        #expect(logs >= before)
        // The sandbox was killed: no folder, no bwrap process of it left.
        try await Task.sleep(for: .milliseconds(500))
        let sandboxes = s.root.appendingPathComponent("home/sandboxes")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: sandboxes.path)) ?? []).isEmpty)
        #expect(Self.processes(containing: sandboxes.path).isEmpty)
    }

    @Test func ctrlCOnAForegroundTaskCancelsIt() async throws {
        let s = try await setup([.hang])
        defer { Task { await s.cleanup() } }
        let running = try s.cli.start(["task", "create", "hang in the foreground", "--repo", s.fixture.bare.path, "--json"])
        #expect(await s.fake.waitForRequests(count: 1, timeout: .seconds(60)))
        let follower = try s.cli.start(["task", "logs", "-f", try await Self.onlyTaskID(s)])
        let interruptedAt = Date()
        kill(running.process.processIdentifier, SIGINT)
        let output = try await s.cli.finish(running, timeout: 30)
        #expect(Date().timeIntervalSince(interruptedAt) < 10)
        #expect(output.status == 2, "stderr: \(output.stderr)")
        #expect(output.json?["status"] as? String == "cancelled")
        #expect(output.json?["error"] as? String == "interrupted (Ctrl-C)")
        // `logs -f` saw the run and stopped by itself when the task ended.
        let followed = try await s.cli.finish(follower, timeout: 30)
        #expect(followed.status == 0)
        #expect(followed.stdout.contains("starting Claude Code"))
        let sandboxes = s.root.appendingPathComponent("home/sandboxes")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: sandboxes.path)) ?? []).isEmpty)
    }

    @Test func taskCreateWithSandboxNovitaWorksEndToEnd() async throws {
        let s = try await setup([
            .toolUse("Write", ["file_path": "{{cwd}}/from-cli.txt", "content": "novita via the CLI\n"]),
            .text("Done in the cloud."),
        ])
        defer { Task { await s.cleanup() } }
        // A production setup with only NOVITA_API_URL / NOVITA_SANDBOX_URL pointed at the fake,
        // whose sandboxes have `claude` on their PATH like the cloud-agent template.
        let novita = FakeNovitaService(options: .init(templateTools: ["claude": try ClaudeBinary.locate().path]))
        try await novita.start()
        defer { Task { try? await novita.stop() } }
        var cli = s.cli
        cli.environment.merge(novita.environment()) { _, new in new }
        let run = try await cli.run(["task", "create", "write from-cli.txt", "--repo", s.fixture.bare.path, "--sandbox", "novita", "--json"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.json?["status"] as? String == "succeeded")
        #expect(run.json?["sandbox"] as? String == "novita")
        let folder = try #require(run.json?["files_dir"] as? String)
        #expect((try? String(contentsOfFile: folder + "/files/from-cli.txt", encoding: .utf8)) == "novita via the CLI\n")
        #expect(novita.liveSandboxCount == 0)
    }

    @Test func doctorAndSandboxListAgainstTheFakeNovitaService() async throws {
        let s = try await setup([])
        defer { Task { await s.cleanup() } }
        let novita = FakeNovitaService()
        try await novita.start()
        defer { Task { try? await novita.stop() } }
        var cli = s.cli
        cli.environment.merge(novita.environment()) { _, new in new }
        let doctor = try await cli.run(["doctor", "--json"], timeout: 180)
        let checks = try #require(doctor.json?["checks"] as? [[String: Any]])
        func outcome(_ name: String) -> String? { checks.first { $0["name"] as? String == name }?["outcome"] as? String }
        #expect(outcome("anthropic credentials") == "pass")
        #expect(outcome("local: bwrap sandbox") == "pass")
        #expect(outcome("local: network gateway") == "pass")
        #expect(outcome("local: claude") == "pass")
        #expect(outcome("novita: API") == "pass")
        // The template check really looks inside the sandbox: this machine's sandboxes lack what
        // the cloud-agent template adds, and the doctor names exactly those tools.
        let template = try #require(checks.first { ($0["name"] as? String)?.hasPrefix("novita: template") == true })
        let missing = ["claude", "gh", "git", "uv"].filter { HostTools.which($0) == nil }
        if missing.isEmpty {
            #expect(template["outcome"] as? String == (HostTools.which("start-services") == nil ? "fail" : "pass"))
        } else {
            #expect(template["outcome"] as? String == "fail")
            #expect((template["detail"] as? String)?.contains("missing: " + missing.joined(separator: " ")) == true, "\(template)")
        }
        // Without `claude` in the template there is no version to compare with the local one.
        if HostTools.which("claude") == nil {
            #expect(outcome("novita: claude version") == "skip")
        }
        #expect(doctor.status == (checks.contains { $0["outcome"] as? String == "fail" } ? 11 : 0))
        #expect(!doctor.stdout.contains(novita.apiKey) && !doctor.stdout.contains(Self.apiKey))
        #expect(novita.liveSandboxCount == 0, "doctor left its sandbox running")

        let listed = try await cli.run(["sandbox", "list", "--sandbox", "novita", "--json"])
        #expect(listed.status == 0, "stderr: \(listed.stderr)")
        #expect((listed.json?["sandboxes"] as? [Any])?.isEmpty == true)
        var badKey = cli
        badKey.environment["NOVITA_API_KEY"] = "wrong-key-123456"
        let refused = try await badKey.run(["sandbox", "list", "--sandbox", "novita"])
        #expect(refused.status == 11)
        #expect(refused.stderr.contains("refused the API key"))
        #expect(!refused.stderr.contains("wrong-key-123456"))
    }

    /// `ca sandbox gc` under `ulimit -n 64`: a leftover sandbox holding 3000 nested folders is
    /// deleted (one descriptor per level used to exhaust them), and a folder with a garbage
    /// `sandbox.json` is reported without stopping the collection.
    @Test func sandboxGCRemovesDeepFoldersUnderAFileLimitAndReportsBrokenOnes() async throws {
        let s = try await setup([])
        defer { Task { await s.cleanup() } }
        let sandboxes = s.root.appendingPathComponent("home/sandboxes").path
        let deep = sandboxes + "/lsb-deepdeepdeep", broken = sandboxes + "/lsb-brokenbroken"
        for folder in [deep, broken] {
            try FileManager.default.createDirectory(atPath: folder + "/home", withIntermediateDirectories: true)
        }
        // A live sandbox of a task this machine does not know (as another ca home left it).
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let record: [String: Any] = [
            "id": "lsb-deepdeepdeep", "template": "base", "isolation": "bubblewrap",
            "metadata": ["ca.task_id": "vanishedtask", "ca.version": "test"],
            "startedAt": Date().formatted(style), "expiresAt": Date(timeIntervalSinceNow: 3600).formatted(style),
        ]
        try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: deep + "/sandbox.json"))
        try DeepFolderTree.make(under: deep + "/home", depth: 3000)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: broken + "/sandbox.json"))

        var limited = s.cli
        limited.openFileLimit = 64
        let gc = try await limited.run(["sandbox", "gc", "--sandbox", "local"])
        #expect(gc.status == 11, "stdout: \(gc.stdout)\nstderr: \(gc.stderr)")
        #expect(gc.stdout.contains("killed local sandbox lsb-deepdeepdeep (task vanishedtask unknown)"))
        #expect(gc.stderr.contains("error: local/lsb-brokenbroken: its sandbox.json is not a readable sandbox record"))
        #expect(!gc.stderr.contains("Too many open files"))
        #expect(!FileManager.default.fileExists(atPath: deep))
        #expect(FileManager.default.fileExists(atPath: broken + "/sandbox.json"))

        let listed = try await limited.run(["sandbox", "list", "--sandbox", "local", "--json"])
        #expect(listed.status == 11)
        #expect((listed.json?["sandboxes"] as? [Any])?.isEmpty == true)
        #expect((listed.json?["errors"] as? [String: String])?.keys.sorted() == ["local/lsb-brokenbroken"])
    }

    static func onlyTaskID(_ s: Setup) async throws -> String {
        let list = try await s.cli.run(["task", "list", "--json"])
        let items = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8))) as? [[String: Any]]
        return try #require(items?.first?["id"] as? String)
    }

    static func runnerPID(taskID: String) -> pid_t? {
        processes(containing: "_run\u{0}\(taskID)").first
    }

    /// Pids whose command line contains `needle` (arguments joined by NUL).
    static func processes(containing needle: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let cmd = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
            return String(decoding: cmd, as: UTF8.self).contains(needle) ? pid : nil
        }
    }
}

/// Looks up programs on this machine's PATH (what the fake Novita sandboxes see).
enum HostTools {
    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

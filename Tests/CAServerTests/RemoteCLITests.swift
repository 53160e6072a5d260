import AgentCore
import CAServer
import CATestSupport
import Foundation
import SandboxClient
import Testing

/// The `ca` executable as a client of a real `ca serve` (`--server` / `CA_SERVER`, `CA_TOKEN`):
/// the same commands, output, `--json` and exit codes as against the local store, files
/// downloaded into the same folder layout.
@Suite(.serialized) struct RemoteCLITests {
    /// Runs `ca` against the server with its own, empty `CA_HOME`.
    func ca(_ s: ServerHarness, _ arguments: [String], key: String?, home: URL, server: String? = nil) async throws -> HostProcess.Output {
        var environment = [
            "CA_HOME": home.path,
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "CA_SERVER": server ?? "http://127.0.0.1:\(s.port)",
        ]
        if let key { environment["CA_TOKEN"] = key }
        return try await HostProcess.run(CABinary.path, arguments, environment: environment, timeout: .seconds(120))
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test func theCLIDoesOverAServerWhatItDoesLocally() async throws {
        // The server does not serve its own disk: a folder on the client goes up as a bundle.
        let s = try await ServerHarness.start(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/hello.txt", "content": "hello from the server\n"], text: "Writing."),
            .text("Wrote hello.txt."),
            .toolUse("Write", ["file_path": "{{cwd}}/second.txt", "content": "second\n"]),
            .text("Second done."),
        ], configuration: ServerConfiguration(port: 0, allowLocalBackend: true, allowLocalRepositories: false))
        defer { Task { await s.cleanup() } }
        let key = try await s.key("dana")
        let home = s.root.appendingPathComponent("client-home")
        let repository = s.fixture.bare.path

        // Foreground, as locally: progress, then the outcome; the files land on this machine.
        let created = try await ca(s, ["task", "create", "write hello.txt", "--repo", repository, "--sandbox", "local"], key: key, home: home)
        #expect(created.status == 0, "stdout: \(created.stdoutText)\nstderr: \(created.stderrText)")
        #expect(created.stdoutText.contains("⚙ Write") && created.stdoutText.contains("succeeded"), "\(created.stdoutText)")
        let listed = try await ca(s, ["task", "list", "--json"], key: key, home: home)
        let tasks = (try? JSONSerialization.jsonObject(with: listed.stdout)) as? [[String: Any]] ?? []
        let id = try #require(tasks.first?["id"] as? String, "\(listed.stdoutText) \(listed.stderrText)")
        #expect(tasks.first?["files_dir"] as? String == home.appendingPathComponent("tasks/\(id)").path)
        #expect(try String(contentsOf: home.appendingPathComponent("tasks/\(id)/files/hello.txt"), encoding: .utf8) == "hello from the server\n")
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("tasks/\(id)/patch.diff").path))

        // get (by prefix), logs, logs -f, wait, diff, files.
        let got = try await ca(s, ["task", "get", String(id.prefix(6)), "--json"], key: key, home: home)
        #expect(got.status == 0 && Self.json(got.stdoutText)["status"] as? String == "succeeded")
        #expect((Self.json(got.stdoutText)["repository_url"] as? String)?.hasPrefix("bundle:") == true, "\(got.stdoutText)")
        #expect(Self.json(got.stdoutText)["result"] as? String == "Wrote hello.txt.")
        let logs = try await ca(s, ["task", "logs", id, "--json"], key: key, home: home)
        let lines = logs.stdoutText.split(separator: "\n").map { Self.json(String($0)) }
        let page = try await s.request("GET", "/v1/tasks/\(id)/logs?limit=10000", key: key).json["events"] as? [[String: Any]] ?? []
        #expect(!lines.isEmpty && lines.count == page.count)
        #expect(lines.compactMap { $0["seq"] as? Int } == Array(1...lines.count))
        let followed = try await ca(s, ["task", "logs", "-f", id], key: key, home: home)
        #expect(followed.status == 0 && followed.stdoutText.contains("Wrote hello.txt."))
        let waited = try await ca(s, ["task", "wait", id], key: key, home: home)
        #expect(waited.status == 0 && waited.stdoutText.contains("succeeded"))
        let diff = try await ca(s, ["task", "diff", id], key: key, home: home)
        #expect(diff.status == 0 && diff.stdoutText.contains("+hello from the server"))
        let files = try await ca(s, ["task", "files", id, "--json"], key: key, home: home)
        let artifacts = Self.json(files.stdoutText)["artifacts"] as? [[String: Any]] ?? []
        #expect(artifacts.contains { $0["path"] as? String == "hello.txt" && $0["kind"] as? String == "file" }, "\(files.stdoutText)")

        // Resume detached, then wait: the child has both changes.
        let resumed = try await ca(s, ["task", "resume", id, "now second.txt", "--detach"], key: key, home: home)
        let child = resumed.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(resumed.status == 0 && child.count == 13, "\(resumed.stdoutText) \(resumed.stderrText)")
        let childDone = try await ca(s, ["task", "wait", child, "--json"], key: key, home: home)
        #expect(childDone.status == 0 && Self.json(childDone.stdoutText)["parent_id"] as? String == id)
        let childDiff = try await ca(s, ["task", "diff", child], key: key, home: home).stdoutText
        #expect(childDiff.contains("+second") && childDiff.contains("+hello from the server"))

        // Errors keep the documented exit codes.
        let unknown = try await ca(s, ["task", "get", "zzzzzzzzzzzzz"], key: key, home: home)
        #expect(unknown.status == 10 && unknown.stderrText.contains("no task"))
        let keyless = try await ca(s, ["task", "list"], key: nil, home: home)
        #expect(keyless.status == 11 && keyless.stderrText.contains("401"), "\(keyless.stderrText)")
        let otherOwner = try await ca(s, ["task", "get", id], key: try await s.key("eve"), home: home)
        #expect(otherOwner.status == 10)
        let serverDisk = try await ca(s, ["task", "create", "x", "--repo", "file://" + s.fixture.bare.path, "--sandbox", "local"], key: key, home: home)
        #expect(serverDisk.status == 11 && serverDisk.stderrText.contains("local_repository_refused"), "\(serverDisk.stderrText)")
        let missing = try await ca(s, ["task", "create", "x", "--repo", s.root.appendingPathComponent("nowhere").path], key: key, home: home)
        #expect(missing.status == 11, "\(missing.status) \(missing.stderrText)")
        #expect(missing.stderrText.contains("no such folder"), "\(missing.stderrText)")
        let down = try await ca(s, ["task", "list"], key: key, home: home, server: "http://127.0.0.1:1")
        #expect(down.status == 11 && down.stderrText.contains("cannot reach the server"), "\(down.stderrText)")
        let badURL = try await ca(s, ["task", "list", "--server", "ftp://example"], key: key, home: home)
        #expect(badURL.status == 64)

        // Ctrl-C during a foreground run cancels the task on the server; ca exits 2.
        s.fake.append([.toolUse("Bash", ["command": "echo working"], text: "Working."), .text("never reached").delayed(by: .seconds(60))])
        var environment = [
            "CA_HOME": home.path, "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "CA_SERVER": "http://127.0.0.1:\(s.port)",
        ]
        environment["CA_TOKEN"] = key
        let foreground = try HostProcess.start(CABinary.path, ["task", "create", "sleep", "--repo", repository, "--sandbox", "local"], environment: environment)
        let deadline = ContinuousClock.now + .seconds(60)
        var running: String?
        while ContinuousClock.now < deadline, running == nil {
            let page = try await s.request("GET", "/v1/tasks?status=running", key: key).json["tasks"] as? [[String: Any]] ?? []
            if let id = page.first?["id"] as? String,
               let events = try await s.request("GET", "/v1/tasks/\(id)/logs", key: key).json["events"] as? [[String: Any]],
               events.contains(where: { $0["type"] as? String == "assistant" }) {
                running = id
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        foreground.signal(SIGINT)
        let interrupted = await foreground.wait(timeout: .seconds(60))
        #expect(running != nil && interrupted.status == 2, "\(interrupted.status) \(interrupted.stdoutText) \(interrupted.stderrText)")
        if let running {
            let cancelled = try await s.waitForEnd(running, key: key)
            #expect(cancelled["status"] as? String == "cancelled", "\(cancelled)")
        }

        // The client kept no store of its own, and never saw the server's key.
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("ca.sqlite").path))
        let secret = s.environment["ANTHROPIC_API_KEY"]!
        for output in [created, logs, got, diff, files] { #expect(!output.stdoutText.contains(secret) && !output.stderrText.contains(secret)) }
    }
}

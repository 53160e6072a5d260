import AgentCore
import CATestSupport
import Foundation
import Testing

/// `--keep-alive` as a user sees it: `ca task create --keep-alive` on the fake Novita service,
/// `ca task get`, `ca sandbox list` (the paused sandbox and its expiry), and the start-up pass of
/// the next `ca` command killing it once its window has passed.
@Suite(.serialized) struct KeepAliveCLITests {
    @Test func pausedSandboxesAreShownAndKilledAfterTheirWindow() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-cli-keep-\(UUID().uuidString.prefix(8))")
        let fixture = try GitFixture.make(in: root.appendingPathComponent("git"))
        let fake = FakeAnthropicServer(script: [.toolUse("Write", ["file_path": "{{cwd}}/a.txt", "content": "a\n"]), .text("Done.")])
        try await fake.start()
        let novita = FakeNovitaService(options: .init(templateTools: ["claude": try ClaudeBinary.locate().path]))
        try await novita.start()
        defer { Task { try? await fake.stop(); try? await novita.stop(); try? FileManager.default.removeItem(at: root) } }
        var environment = [
            "CA_HOME": root.appendingPathComponent("home").path,
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "ANTHROPIC_API_KEY": "sk-ant-cli-keep-\(UUID().uuidString.prefix(8))",
            "ANTHROPIC_BASE_URL": fake.baseURL.absoluteString,
            "CA_CLAUDE_BIN": try ClaudeBinary.locate().path,
            "CLAUDE_CODE_MAX_RETRIES": "0",
        ]
        environment.merge(novita.environment()) { _, new in new }
        let cli = CLI(environment: environment)

        let run = try await cli.run(["task", "create", "write a.txt", "--repo", fixture.bare.path, "--sandbox", "novita", "--keep-alive", "45m"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("sandbox kept paused until"), "\(run.stdout)")
        let task = try #require(try await cli.run(["task", "list", "--json"]).stdout.split(separator: "\n").first.flatMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [[String: Any]]
        }?.first)
        let id = try #require(task["id"] as? String)
        let sandboxID = try #require(task["paused_sandbox_id"] as? String)
        #expect(task["keep_alive_seconds"] as? Int == 2700)

        let got = try await cli.run(["task", "get", id])
        #expect(got.stdout.contains("keep-alive  45m · sandbox \(sandboxID) paused until "), "\(got.stdout)")
        let table = try await cli.run(["sandbox", "list", "--sandbox", "novita"])
        let row = try #require(table.stdout.split(separator: "\n").first { $0.contains(sandboxID) }, "\(table.stdout)")
        #expect(row.contains("paused") && row.contains("UTC"), "\(row)")
        let listed = try await cli.run(["sandbox", "list", "--sandbox", "novita", "--json"])
        let sandboxes = try #require(listed.json?["sandboxes"] as? [[String: Any]])
        #expect(sandboxes.first?["state"] as? String == "paused" && sandboxes.first?["paused_until"] is String)
        // gc leaves it alone inside its window.
        let gc = try await cli.run(["sandbox", "gc", "--sandbox", "novita"])
        #expect(gc.stdout.contains("nothing to collect"), "\(gc.stdout)")
        #expect(novita.isPaused(sandboxID: sandboxID) == true)

        // The window passes; the next ca command (any, even a read-only one) kills it.
        let store = try TaskStore(path: root.appendingPathComponent("home/ca.sqlite").path)
        try await store.update(id) { $0.pausedUntil = Date().addingTimeInterval(-1) }
        let next = try await cli.run(["task", "list"])
        #expect(next.stderr.contains("killed paused sandbox \(sandboxID) of task \(id)"), "\(next.stderr)")
        #expect(novita.liveSandboxCount == 0)
        #expect(try await store.task(id: id)?.pausedSandboxID == nil)
    }
}

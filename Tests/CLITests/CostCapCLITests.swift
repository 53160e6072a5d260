import CATestSupport
import Foundation
import Testing

/// `--max-cost` as a user and a script see it: `--json` with the stable reason, `ca task get`
/// showing cost against cap, `CA_MAX_COST` as a default, and bad amounts refused.
@Suite(.serialized) struct CostCapCLITests {
    static let apiKey = "sk-ant-cap-SECRET-\(UUID().uuidString.prefix(8))"

    @Test func aTaskStoppedByItsCapSaysSoInEveryView() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-cap-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let fixture = try GitFixture.make(in: root.appendingPathComponent("git"))
        // $0.60 a turn at the default model's price: the third turn reaches CA_MAX_COST=1.5.
        let turns: [ScriptedTurn] = [ScriptedTurn.toolUse("Write", ["file_path": "{{cwd}}/capped.txt", "content": "kept\n"]).usage(input: 150_000)]
            + (1...4).map { ScriptedTurn.toolUse("Bash", ["command": .string("echo \($0)")]).usage(input: 150_000) }
        let fake = FakeAnthropicServer(script: turns + [.text("Done.")])
        try await fake.start()
        defer { Task { try? await fake.stop() } }
        let cli = try CLI.local(root: root, fake: fake, apiKey: Self.apiKey, extra: ["CA_MAX_COST": "1.5"])
        let created = try await cli.run(["task", "create", "spend", "--repo", fixture.bare.path, "--json"])
        #expect(created.status == 1, "\(created.stdout) \(created.stderr)")
        let json = try #require(created.json)
        #expect(json["status"] as? String == "failed")
        #expect(json["failure_reason"] as? String == "budget_exceeded")
        #expect(json["max_cost_usd"] as? Double == 1.5)
        let cost = try #require(json["cost_usd"] as? Double)
        #expect(cost >= 1.5 && cost < 2.2, "\(cost)")
        #expect(fake.messagesRequests.count == 3)
        let id = try #require(json["id"] as? String)
        let files = try await cli.run(["task", "files", id, "--json"])
        #expect((files.json?["artifacts"] as? [[String: Any]])?.contains { $0["path"] as? String == "capped.txt" } == true, "\(files.stdout)")

        let shown = try await cli.run(["task", "get", id])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("reason      budget_exceeded"), "\(shown.stdout)")
        #expect(shown.stdout.contains("of $1.50 cap"), "\(shown.stdout)")
        #expect(shown.stdout.contains("cost cap of $1.50 reached"), "\(shown.stdout)")

        // A flag beats the environment; bad amounts are usage errors, and nothing is recorded.
        for bad in ["0", "-1", "abc", "1e3", "100001"] {
            let refused = try await cli.run(["task", "create", "x", "--repo", fixture.bare.path, "--max-cost", bad])
            #expect(refused.status == 64, "\(bad): \(refused.stderr)")
            #expect(refused.stderr.contains("--max-cost"), "\(refused.stderr)")
        }
        var broken = cli
        broken.environment["CA_MAX_COST"] = "lots"
        let refused = try await broken.run(["task", "create", "x", "--repo", fixture.bare.path])
        #expect(refused.status == 64 && refused.stderr.contains("CA_MAX_COST"), "\(refused.status) \(refused.stderr)")
        // A key's defaults for `ca serve`.
        let key = try await cli.run(["keys", "create", "team", "--max-cost", "2", "--notify", "http://127.0.0.1:9/hook", "--json"])
        #expect(key.status == 0, "\(key.stderr)")
        #expect(key.json?["max_cost_usd"] as? Double == 2 && key.json?["notify_url"] as? String == "http://127.0.0.1:9/hook")
        let keys = try await cli.run(["keys", "list"])
        #expect(keys.stdout.contains("cap $2.00") && keys.stdout.contains("notify http://127.0.0.1:9/hook"), "\(keys.stdout)")
        let badKey = try await cli.run(["keys", "create", "other", "--notify", "ftp://example/x"])
        #expect(badKey.status == 64, "\(badKey.stderr)")

        let listed = try await cli.run(["task", "list", "--json"])
        let all = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [Any]
        #expect(all?.count == 1, "\(listed.stdout)")
    }
}

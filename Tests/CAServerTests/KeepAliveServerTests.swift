import AgentCore
import CAServer
import CATestSupport
import Foundation
import SandboxClient
import Testing

/// `--keep-alive` through `ca serve`: `keep_alive_seconds` in the API, the remote CLI's flag, the
/// Task's `paused_sandbox_id` / `paused_until`, and a resume through the server continuing in
/// the paused sandbox on the fake Novita service.
@Suite(.serialized) struct KeepAliveServerTests {
    @Test func theRemoteCLIKeepsTheSandboxAndResumesInIt() async throws {
        let novita = FakeNovitaService(options: .init(templateTools: ["claude": try ClaudeBinary.locate().path]))
        try await novita.start()
        defer { Task { try? await novita.stop() } }
        var extra = novita.environment()
        extra["CA_SANDBOX"] = "novita"
        let s = try await ServerHarness.start(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/kept.txt", "content": "on the server\n"]),
            .text("Parent done."),
            .text("Child done."),
        ], extraEnvironment: extra)
        defer { Task { await s.cleanup() } }
        let key = try await s.key("erin")
        let home = s.root.appendingPathComponent("client-home")
        func ca(_ arguments: [String]) async throws -> HostProcess.Output {
            try await HostProcess.run(CABinary.path, arguments, environment: [
                "CA_HOME": home.path, "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                "CA_SERVER": "http://127.0.0.1:\(s.port)", "CA_TOKEN": key,
            ], timeout: .seconds(120))
        }
        func json(_ output: HostProcess.Output) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: output.stdout)) as? [String: Any] ?? [:]
        }

        let created = try await ca(["task", "create", "write kept.txt", "--repo", s.fixture.bare.path, "--keep-alive", "10m", "--json"])
        #expect(created.status == 0, "stdout: \(created.stdoutText)\nstderr: \(created.stderrText)")
        let parent = json(created)
        let parentID = try #require(parent["id"] as? String)
        let sandboxID = try #require(parent["sandbox_id"] as? String)
        #expect(parent["keep_alive_seconds"] as? Int == 600)
        #expect(parent["paused_sandbox_id"] as? String == sandboxID)
        #expect(parent["paused_until"] is String)
        #expect(novita.isPaused(sandboxID: sandboxID) == true)
        // The API shows the same.
        let got = try await s.request("GET", "/v1/tasks/\(parentID)", key: key).json
        #expect(got["paused_sandbox_id"] as? String == sandboxID && got["keep_alive_seconds"] as? Int == 600)

        let resumed = try await ca(["task", "resume", parentID, "go on", "--keep-alive", "0", "--json"])
        #expect(resumed.status == 0, "stdout: \(resumed.stdoutText)\nstderr: \(resumed.stderrText)")
        let child = json(resumed)
        #expect(child["sandbox_id"] as? String == sandboxID, "the resume did not continue in the paused sandbox")
        #expect(child["keep_alive_seconds"] is NSNull && child["paused_sandbox_id"] is NSNull)
        #expect(novita.requests(path: "/sandboxes").filter { $0.method == "POST" }.count == 1)
        #expect(novita.startedCommands.filter { $0.contains("git clone") }.count == 1)
        #expect(try await s.request("GET", "/v1/tasks/\(parentID)", key: key).json["paused_sandbox_id"] is NSNull)
        #expect(novita.liveSandboxCount == 0, "the child (no keep-alive) left its sandbox")
    }
}

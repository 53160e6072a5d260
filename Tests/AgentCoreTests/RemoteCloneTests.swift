import AgentCore
import CATestSupport
import Foundation
import Testing

/// A remote repository is cloned inside the sandbox, through ca's gateway: its host is on the
/// sandbox's allowlist by itself, and nothing else is. The remote is a git repository served
/// over git's "dumb" HTTP protocol by a loopback HTTP server (plain `http://`, so git sends
/// its requests to the proxy in absolute form).
@Suite(.serialized) struct RemoteCloneTests {
    /// Serves the files of a bare repository (after `git update-server-info`), counting requests.
    final class DumbGitServer: Sendable {
        let server: LoopbackHTTPServer
        init(bare: URL) throws {
            try GitFixture.git(["-C", bare.path, "update-server-info"])
            let root = bare.standardizedFileURL.path
            server = LoopbackHTTPServer { request, writer in
                let relative = request.path.split(separator: "/").dropFirst().map(String.init)   // drop "/origin.git"
                guard !relative.contains(".."), let data = FileManager.default.contents(atPath: ([root] + relative).joined(separator: "/")) else {
                    try? await writer.respond(status: 404, body: Data("not found\n".utf8))
                    return
                }
                try? await writer.respond(status: 200, headers: [("Content-Type", "application/octet-stream")], body: data)
            }
        }
    }

    @Test func aRemoteRepositoryIsClonedThroughTheGatewayAndItsHostIsAllowed() async throws {
        let h = try await EngineHarness.make(script: [
            .toolUse("Bash", ["command": "git log --oneline | wc -l; cat README.md", "description": "look"]),
            .text("Looked."),
        ])
        defer { Task { await h.cleanup() } }
        let git = try DumbGitServer(bare: h.fixture.bare)
        try await git.server.start()
        defer { Task { try? await git.server.stop() } }
        let url = "http://127.0.0.1:\(git.server.port)/origin.git"
        let task = try await h.service.create(TaskRequest(prompt: "look around", repository: url, timeoutSeconds: 120))
        let done = try await h.run(task)
        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")
        #expect(done.baseCommit == (try h.fixture.head()))
        #expect(try await h.toolResults(done).contains { $0.contains("# Demo") })
        // The clone went through the proxy, as an allowed destination.
        let network = try await h.notes(done, "network")
        #expect(network.contains { $0.hasPrefix("allowed GET 127.0.0.1:\(git.server.port)") }, "network notes: \(network)")
        #expect(!network.contains { $0.hasPrefix("denied") })
    }

    @Test func anUnreachableRemoteFailsClearly() async throws {
        let h = try await EngineHarness.make(script: [])
        defer { Task { await h.cleanup() } }
        // Nothing listens on this port (the listener is closed before the task starts).
        let probe = try ProbeListener(.loopbackTCP)
        let port = probe.port
        probe.stop()
        let task = try await h.service.create(TaskRequest(prompt: "x", repository: "http://127.0.0.1:\(port)/gone.git", timeoutSeconds: 60))
        let done = try await h.run(task)
        #expect(done.status == .failed)
        #expect(done.error?.contains("cannot reach repository http://127.0.0.1:\(port)/gone.git") == true, "error: \(done.error ?? "-")")
    }
}

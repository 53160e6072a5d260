@testable import AgentCore
import AsyncHTTPClient
import CATestSupport
import Foundation
import NIOCore
import SandboxClient
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `ca serve` as its own process, killed outright (SIGKILL) in the middle of tasks and started
/// again on the same `CA_HOME`: a cloud task's agent runs on in its sandbox and the new server
/// re-attaches and stores what it missed, each event once; a local task dies with the server
/// and is marked failed with the reason, its sandbox gone.
@Suite(.serialized) struct ServerRestartTests {
    /// One `ca serve` child process.
    struct Server {
        let process: HostProcess
        let port: Int

        static func start(environment: [String: String], arguments: [String] = []) async throws -> Server {
            let port = try Self.freePort()
            let process = try HostProcess.start(CABinary.path, ["serve", "--port", String(port), "--allow-local-repos"] + arguments,
                                                environment: environment)
            let server = Server(process: process, port: port)
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline, !server.hasExited {
                if let ready = try? await server.request("GET", "/healthz", key: nil, timeout: .seconds(2)), ready.status == 200 { return server }
                try await Task.sleep(for: .milliseconds(50))
            }
            process.signal(SIGKILL)
            let output = await process.wait(timeout: .seconds(10))
            throw GitFixture.Failure(description: "ca serve did not start (exit \(output.status)): \(output.stderrText)")
        }

        /// Whether the server process ended (a zombie not yet reaped counts).
        var hasExited: Bool { !TaskRecovery.isAlive(Int(process.pid)) }

        /// A port nothing listens on right now (the kernel's choice).
        static func freePort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard bound else { throw GitFixture.Failure(description: "no free port: errno \(errno)") }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        func request(_ method: String, _ path: String, key: String?, json: Any? = nil, timeout: Duration = .seconds(30)) async throws -> ServerHarness.Response {
            try await ServerHarness.request(port: port, method, path, key: key, json: json, timeout: timeout)
        }

        func events(_ id: String, key: String) async throws -> [[String: Any]] {
            try await request("GET", "/v1/tasks/\(id)/logs?limit=10000", key: key).json["events"] as? [[String: Any]] ?? []
        }

        func waitForEnd(_ id: String, key: String, timeout: Duration = .seconds(120)) async throws -> [String: Any] {
            try await ServerHarness.waitForEnd(port: port, id, key: key, timeout: timeout)
        }

        /// Kills the server outright and returns what it wrote.
        func crash() async -> HostProcess.Output {
            process.signal(SIGKILL)
            return await process.wait(timeout: .seconds(30))
        }

        func stop() async -> HostProcess.Output {
            process.signal(SIGTERM)
            return await process.wait(timeout: .seconds(60))
        }
    }

    /// One test's world: a git fixture, the fake Anthropic API, for cloud tasks the fake Novita
    /// service, and the environment of its `ca serve` processes (with a bootstrap admin key).
    struct World {
        let root: URL
        let fixture: GitFixture
        let anthropic: FakeAnthropicServer
        let novita: FakeNovitaService?
        let admin: String
        let environment: [String: String]

        static func make(script: [ScriptedTurn], cloud: Bool) async throws -> World {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-restart-\(UUID().uuidString.prefix(8))")
            let fixture = try GitFixture.make(in: root.appendingPathComponent("git"))
            let anthropic = FakeAnthropicServer(script: script)
            try await anthropic.start()
            var novita: FakeNovitaService?
            if cloud {
                let service = FakeNovitaService(options: .init(templateTools: ["claude": try ClaudeBinary.locate().path]))
                try await service.start()
                novita = service
            }
            let admin = "ca_admin_restart_\(UUID().uuidString.prefix(8))"
            var environment = [
                "CA_HOME": root.appendingPathComponent("home").path,
                "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                "ANTHROPIC_API_KEY": "sk-ant-restart-SECRET-\(UUID().uuidString.prefix(8))",
                "ANTHROPIC_BASE_URL": anthropic.baseURL.absoluteString,
                "CA_CLAUDE_BIN": try ClaudeBinary.locate().path,
                "CA_HELPER_BIN": CABinary.path,
                "CLAUDE_CODE_MAX_RETRIES": "0",
                "CA_ADMIN_KEY": admin,
            ]
            environment.merge(novita?.environment(flavour: "novita") ?? [:]) { _, new in new }
            return World(root: root, fixture: fixture, anthropic: anthropic, novita: novita, admin: admin, environment: environment)
        }

        /// The store, read-only, as another process sees it.
        func store() throws -> TaskStore {
            try TaskStore(path: root.appendingPathComponent("home/ca.sqlite").path, access: .readOnly)
        }

        func cleanup() async {
            try? await anthropic.stop()
            try? await novita?.stop()
            try? FileManager.default.removeItem(at: root)
        }
    }

    /// Names the local task's endless loop in the process table.
    static let loopMarker = "ca-restart-loop-\(UUID().uuidString.prefix(8))"

    /// The ids of the agent's tool uses among a task's events.
    static func toolUses(_ events: [[String: Any]]) -> [String] {
        events.flatMap { event -> [String] in
            guard event["type"] as? String == "assistant", let data = event["data"] as? [String: Any],
                  let message = data["message"] as? [String: Any], let content = message["content"] as? [[String: Any]] else { return [] }
            return content.compactMap { $0["type"] as? String == "tool_use" ? $0["id"] as? String : nil }
        }
    }

    /// The messages of ca's own notes among a task's events.
    static func notes(_ events: [[String: Any]]) -> [String] {
        events.filter { $0["type"] as? String == "ca" }.compactMap { ($0["data"] as? [String: Any])?["message"] as? String }
    }

    /// A crash (SIGKILL) and then a graceful stop (SIGTERM) during one cloud task: each time
    /// the agent runs on in its sandbox and the next server stores what it missed, each event once.
    @Test func aCloudTaskRunsOnThroughACrashAndAStopAndIsReattached() async throws {
        // Turn 2 comes while no server runs; turn 3 is still on its way when the second server
        // stops, and comes while none runs again; turn 4 is followed live by the third.
        let world = try await World.make(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/before.txt", "content": "written before the crash\n"], text: "First file."),
            .toolUse("Write", ["file_path": "{{cwd}}/during.txt", "content": "written while ca was down\n"], text: "Second file.").delayed(by: .seconds(3)),
            .toolUse("Write", ["file_path": "{{cwd}}/after.txt", "content": "written after the stop\n"], text: "Third file.").delayed(by: .seconds(12)),
            .text("Done after two restarts.").delayed(by: .seconds(2)),
        ], cloud: true)
        defer { Task { await world.cleanup() } }
        let (fixture, anthropic, admin, environment) = (world.fixture, world.anthropic, world.admin, world.environment)
        let novita = try #require(world.novita)
        let deadline = ContinuousClock.now + .seconds(120)

        // 1. Crash once the agent's first answer is stored.
        let first = try await Server.start(environment: environment)
        let created = try await first.request("POST", "/v1/tasks", key: admin, json: [
            "prompt": "write three files", "repository_url": fixture.bare.path, "sandbox": "novita",
        ])
        #expect(created.status == 202, "\(created.text)")
        let id = try #require(created.json["id"] as? String)
        do {
            while ContinuousClock.now < deadline, try await Self.toolUses(first.events(id, key: admin)).isEmpty {
                try await Task.sleep(for: .milliseconds(100))
            }
        } catch {
            let output = await first.crash()
            Issue.record("the first server failed: \(error)\n\(output.stderrText)")
            return
        }
        let crashed = await first.crash()
        #expect(try await world.store().events(taskID: id).count > 0, "stderr: \(crashed.stderrText)")
        #expect(try await world.store().task(id: id)?.status == .running)

        // The agent goes on in its sandbox; a CLI on the same store leaves the task alone.
        while ContinuousClock.now < deadline, anthropic.consumedTurnCount < 3 { try await Task.sleep(for: .milliseconds(100)) }
        let listed = try await HostProcess.run(CABinary.path, ["task", "list", "--json"], environment: environment, timeout: .seconds(30))
        #expect(listed.status == 0 && !listed.stderrText.contains("marked failed"), "\(listed.stderrText)")

        // 2. The next server re-attaches and stores turn 2; stopped gracefully, it lets go again.
        let second = try await Server.start(environment: environment, arguments: ["--shutdown-grace", "1s"])
        while ContinuousClock.now < deadline, try await Self.toolUses(second.events(id, key: admin)).count < 2 {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(anthropic.consumedTurnCount == 3, "turn 3 came before the second server stopped: the test is too slow")
        let stopped = await second.stop()
        #expect(stopped.status == 0 && !stopped.timedOut, "\(stopped.stderrText)")
        let left = try #require(try await world.store().task(id: id))
        #expect(left.status == .running && left.runnerPID == nil, "\(left)")
        #expect(novita.liveSandboxCount == 1)

        // 3. The third server reads turn 3 from the recording and follows turn 4 live.
        while ContinuousClock.now < deadline, anthropic.consumedTurnCount < 4 { try await Task.sleep(for: .milliseconds(100)) }
        let third = try await Server.start(environment: environment)
        let end = try await third.waitForEnd(id, key: admin)
        let events = try await third.events(id, key: admin)
        let thirdOutput = await third.stop()
        #expect(end["status"] as? String == "succeeded", "\(end)\n\(thirdOutput.stderrText)")
        #expect(end["result"] as? String == "Done after two restarts.")

        // Every event once: sequence numbers without gaps, each agent message once.
        #expect(events.compactMap { $0["seq"] as? Int } == Array(1...events.count))
        #expect(events.filter { $0["type"] as? String == "result" }.count == 1)
        let uses = Self.toolUses(events)
        #expect(uses.count == 3 && Set(uses).count == 3, "\(uses)")
        #expect(events.filter { $0["type"] as? String == "user" }.count == 3)
        let said = Self.notes(events)
        #expect(said.filter { $0.hasPrefix("re-attaching to sandbox") }.count == 2, "\(said)")
        #expect(said.contains { $0.hasPrefix("left running in sandbox") }, "\(said)")

        // Every file was saved, the sandbox is gone, and the key never reached the events.
        let files = try await HostProcess.run(CABinary.path, ["task", "files", id, "--json"], environment: environment, timeout: .seconds(30))
        for name in ["before.txt", "during.txt", "after.txt"] { #expect(files.stdoutText.contains(name), "\(files.stdoutText) \(files.stderrText)") }
        #expect(novita.liveSandboxCount == 0)
        let secret = environment["ANTHROPIC_API_KEY"]!
        for event in events { #expect(!"\(event)".contains(secret)) }
    }

    /// Two servers on one store: the one running a cloud task stops (SIGTERM) and lets go of
    /// it; the other, already running, takes it over within its scan interval and finishes it.
    @Test func anotherServerOnTheSameStoreTakesOverACloudTaskLeftRunning() async throws {
        let world = try await World.make(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/first.txt", "content": "by the first server\n"], text: "First file."),
            .toolUse("Write", ["file_path": "{{cwd}}/second.txt", "content": "while it stopped\n"], text: "Second file.").delayed(by: .seconds(2)),
            .text("Finished by the other server.").delayed(by: .seconds(1)),
        ], cloud: true)
        defer { Task { await world.cleanup() } }
        let (fixture, admin, environment) = (world.fixture, world.admin, world.environment)
        let novita = try #require(world.novita)

        let first = try await Server.start(environment: environment, arguments: ["--shutdown-grace", "0s"])
        let other = try await Server.start(environment: environment)
        let created = try await first.request("POST", "/v1/tasks", key: admin, json: [
            "prompt": "write two files", "repository_url": fixture.bare.path, "sandbox": "novita",
        ])
        let id = try #require(created.json["id"] as? String, "\(created.text)")
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, try await !first.events(id, key: admin).contains(where: { $0["type"] as? String == "assistant" }) {
            try await Task.sleep(for: .milliseconds(100))
        }
        let stopped = await first.stop()
        #expect(stopped.status == 0, "\(stopped.stderrText)")

        let end = try await other.waitForEnd(id, key: admin, timeout: .seconds(90))
        let events = try await other.events(id, key: admin)
        let otherOutput = await other.stop()
        #expect(end["status"] as? String == "succeeded", "\(end)\n\(otherOutput.stderrText)")
        #expect(end["result"] as? String == "Finished by the other server.")
        #expect(events.compactMap { $0["seq"] as? Int } == Array(1...events.count))
        #expect(events.filter { $0["type"] as? String == "result" }.count == 1)
        let notes = Self.notes(events)
        #expect(notes.contains { $0.hasPrefix("left running in sandbox") } && notes.contains { $0.hasPrefix("re-attaching to sandbox") }, "\(notes)")
        #expect(otherOutput.stderrText.contains("left running by another server"), "\(otherOutput.stderrText)")
        #expect(novita.liveSandboxCount == 0)
    }

    @Test func aLocalTaskDiesWithTheServerAndIsMarkedFailed() async throws {
        let world = try await World.make(script: [
            // Claude Code refuses a standalone `sleep`; this loop runs until the sandbox is killed.
            .toolUse("Bash", ["command": .string("until false; do sleep 1; done # \(Self.loopMarker)")], text: "Waiting."),
            .text("never reached"),
        ], cloud: false)
        defer { Task { await world.cleanup() } }
        let (root, fixture, admin, environment) = (world.root, world.fixture, world.admin, world.environment)

        let first = try await Server.start(environment: environment, arguments: ["--allow-local-backend"])
        let created = try await first.request("POST", "/v1/tasks", key: admin, json: [
            "prompt": "sleep", "repository_url": fixture.bare.path, "sandbox": "local",
        ])
        let id = try #require(created.json["id"] as? String, "\(created.text)")
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline, try await !first.events(id, key: admin).contains(where: { $0["type"] as? String == "assistant" }) {
            try await Task.sleep(for: .milliseconds(100))
        }
        let store = try world.store()
        let sandboxID = try #require(try await store.task(id: id)?.sandboxID)
        let sandboxFolder = root.appendingPathComponent("home/sandboxes/\(sandboxID)")
        #expect(FileManager.default.fileExists(atPath: sandboxFolder.path))
        _ = await first.crash()

        let second = try await Server.start(environment: environment, arguments: ["--allow-local-backend"])
        let task = try await second.waitForEnd(id, key: admin, timeout: .seconds(60))
        _ = await second.stop()
        #expect(task["status"] as? String == "failed")
        #expect((task["error"] as? String)?.contains("stopped unexpectedly") == true, "\(task)")
        #expect(!FileManager.default.fileExists(atPath: sandboxFolder.path), "the sandbox of the dead task is still there")
        // Its agent is gone too: nothing still runs the loop.
        let sleeping = try await HostProcess.run("/usr/bin/pgrep", ["-f", Self.loopMarker], environment: [:], timeout: .seconds(10))
        #expect(sleeping.stdoutText.isEmpty, "left running: \(sleeping.stdoutText)")
    }
}

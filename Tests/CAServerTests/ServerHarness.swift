import AgentCore
import AsyncHTTPClient
import CAServer
import CATestSupport
import Foundation
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real `ca serve` on 127.0.0.1 (its service group running in this process), the fake
/// Anthropic API, a git fixture, and an HTTP client to talk to it.
final class ServerHarness: Sendable {
    let root: URL
    let fixture: GitFixture
    let fake: FakeAnthropicServer
    let environment: [String: String]
    let group: ServiceGroup
    let queue: TaskQueue
    let port: Int
    let run: Task<Void, any Error>

    static let adminKey = "ca_admin_bootstrap_\(UUID().uuidString.prefix(8))"

    private init(root: URL, fixture: GitFixture, fake: FakeAnthropicServer, environment: [String: String], group: ServiceGroup,
                 queue: TaskQueue, port: Int, run: Task<Void, any Error>) {
        self.root = root; self.fixture = fixture; self.fake = fake; self.environment = environment
        self.group = group; self.queue = queue; self.port = port; self.run = run
    }

    static func start(script: [ScriptedTurn], configuration: ServerConfiguration = ServerConfiguration(
        port: 0, allowLocalBackend: true, allowLocalRepositories: true), root: URL? = nil, fake existing: FakeAnthropicServer? = nil,
        extraEnvironment: [String: String] = [:]) async throws -> ServerHarness {
        let root = root ?? FileManager.default.temporaryDirectory.appendingPathComponent("ca-serve-\(UUID().uuidString.prefix(8))")
        let fixture = FileManager.default.fileExists(atPath: root.appendingPathComponent("git/origin.git").path)
            ? GitFixture(root: root.appendingPathComponent("git"), bare: root.appendingPathComponent("git/origin.git"))
            : try GitFixture.make(in: root.appendingPathComponent("git"))
        let fake: FakeAnthropicServer
        if let existing { fake = existing } else {
            fake = FakeAnthropicServer(script: script)
            try await fake.start()
        }
        var environment = [
            "CA_HOME": root.appendingPathComponent("home").path,
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "ANTHROPIC_API_KEY": "sk-ant-server-SECRET-\(UUID().uuidString.prefix(8))",
            "ANTHROPIC_BASE_URL": fake.baseURL.absoluteString,
            "CA_CLAUDE_BIN": try ClaudeBinary.locate().path,
            "CA_HELPER_BIN": CABinary.path,
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "CA_ADMIN_KEY": adminKey,
        ]
        environment.merge(extraEnvironment) { _, new in new }
        let listening = AsyncStream.makeStream(of: Int.self)
        let (group, queue) = try CAServerApp.makeServiceGroup(configuration: configuration, environment: environment, logLevel: .warning) { port in
            listening.continuation.yield(port)
        }
        let run = Task { try await group.run() }
        var iterator = listening.stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw GitFixture.Failure(description: "the server did not start") }
        return ServerHarness(root: root, fixture: fixture, fake: fake, environment: environment, group: group, queue: queue, port: port, run: run)
    }

    /// Stops the server gracefully and waits for it.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await run.value
    }

    func cleanup() async {
        await stop()
        try? await fake.stop()
        try? FileManager.default.removeItem(at: root)
    }

    /// A new key (through the engine, as `ca keys create` does).
    func key(_ name: String, admin: Bool = false) async throws -> String {
        let service = try TaskService(environment: environment)
        return try await service.createKey(name: name, admin: admin)
    }

    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    func request(_ method: String, _ path: String, key: String?, json: Any? = nil, rawBody: Data? = nil,
                 headers: [(String, String)] = []) async throws -> Response {
        try await Self.request(port: port, method, path, key: key, json: json, rawBody: rawBody, headers: headers)
    }

    /// A request to the server on 127.0.0.1:`port` (this harness's, or a `ca serve` child's).
    static func request(port: Int, _ method: String, _ path: String, key: String?, json: Any? = nil, rawBody: Data? = nil,
                        headers: [(String, String)] = [], timeout: Duration = .seconds(120)) async throws -> Response {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .init(rawValue: method)
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        } else if let rawBody {
            request.body = .bytes(ByteBuffer(data: rawBody))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .init(timeout))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Response(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Data(buffer: body))
    }

    /// Creates a task on the fixture repository and returns its JSON.
    func createTask(_ prompt: String, key: String, extra: [String: Any] = [:], headers: [(String, String)] = []) async throws -> Response {
        var body: [String: Any] = ["prompt": prompt, "repository_url": fixture.bare.path, "sandbox": "local"]
        body.merge(extra) { _, new in new }
        return try await request("POST", "/v1/tasks", key: key, json: body, headers: headers)
    }

    /// Polls until the task ended (a test helper; clients would follow the SSE stream).
    func waitForEnd(_ id: String, key: String, timeout: Duration = .seconds(120)) async throws -> [String: Any] {
        try await Self.waitForEnd(port: port, id, key: key, timeout: timeout)
    }

    /// ``waitForEnd(_:key:timeout:)`` against the server on 127.0.0.1:`port`.
    static func waitForEnd(port: Int, _ id: String, key: String, timeout: Duration = .seconds(120)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let task = try await request(port: port, "GET", "/v1/tasks/\(id)", key: key, timeout: .seconds(30)).json
            if let status = task["status"] as? String, !["queued", "running"].contains(status) { return task }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw GitFixture.Failure(description: "task \(id) did not end")
    }

    /// Reads an SSE stream until it ends (the `end` event) and returns the event ids and the final task.
    func followSSE(_ id: String, key: String, lastEventID: Int? = nil, stopAfter: Int? = nil) async throws -> (ids: [Int], end: [String: Any]?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/tasks/\(id)/logs")
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        var ids: [Int] = []
        var end: [String: Any]?
        var pending = ""
        var event = "", data = ""
        streaming: for try await chunk in response.body {
            pending += String(buffer: chunk)
            while let newline = pending.firstIndex(of: "\n") {
                let line = String(pending[..<newline])
                pending = String(pending[pending.index(after: newline)...])
                if line.hasPrefix("id: ") { ids.append(Int(line.dropFirst(4)) ?? -1) }
                else if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                else if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
                else if line.isEmpty {
                    if event == "end" { end = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any]; break streaming }
                    event = ""; data = ""
                    if let stopAfter, ids.count >= stopAfter { break streaming }
                }
            }
        }
        return (ids, end)
    }
}

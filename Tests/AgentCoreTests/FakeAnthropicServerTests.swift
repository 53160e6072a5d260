import CATestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tests of the fake Anthropic API: against the real `claude` CLI, and on the wire.
@Suite("FakeAnthropicServer", .serialized)
struct FakeAnthropicServerTests {
    // MARK: - Against the real claude binary

    @Test("claude writes a file, runs Bash and finishes, driven by a three-turn script")
    func claudeRunsScriptedToolTurns() async throws {
        let claude = try ClaudeBinary.locate()
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }

        let script: [ScriptedTurn] = [
            .toolUse("Write", ["file_path": "{{cwd}}/hello.txt", "content": "hello from the fake\n"], text: "Writing the file."),
            .toolUse("Bash", ["command": "cat hello.txt", "description": "Show the file"]),
            .text("The file says hello."),
        ]
        let apiKey = "sk-ant-test-\(UUID().uuidString.prefix(8))"
        let prompt = "Create hello.txt and show it (marker \(UUID().uuidString))"

        try await withFake(script: script) { fake in
            let run = try await ClaudeRun.execute(claude, prompt: prompt, baseURL: fake.baseURL, apiKey: apiKey, scratch: scratch)

            #expect(run.exitCode == 0, "stderr: \(run.stderr)")
            let written = try? String(contentsOf: scratch.work.appendingPathComponent("hello.txt"), encoding: .utf8)
            #expect(written == "hello from the fake\n")

            let result = try #require(run.result, "no result line in stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)")
            #expect(result["is_error"]?.boolValue == false)
            #expect(result["num_turns"]?.intValue == 3)
            #expect(result["result"]?.stringValue == "The file says hello.")
            #expect(result["stop_reason"]?.stringValue == "end_turn")
            #expect((result["total_cost_usd"]?.doubleValue ?? 0) > 0)

            let toolNames = run.lines
                .filter { $0["type"]?.stringValue == "assistant" }
                .flatMap { $0["message"]?["content"]?.arrayValue ?? [] }
                .compactMap { $0["type"]?.stringValue == "tool_use" ? $0["name"]?.stringValue : nil }
            #expect(toolNames == ["Write", "Bash"])

            let requests = fake.messagesRequests
            #expect(requests.count == 3)
            #expect(fake.requests.count == 3, "unexpected extra calls: \(fake.requests.map { "\($0.method) \($0.http.uri)" })")
            for request in requests {
                #expect(request.header("x-api-key") == apiKey)
                #expect(request.http.query["beta"] == "true")
                #expect(request.isStreaming)
                #expect(request.workingDirectory == scratch.work.path)
                #expect(request.toolNames.contains("Bash"))
            }
            #expect(requests.map(\.answer) == [.scripted(index: 0), .scripted(index: 1), .scripted(index: 2)])
            // The API is stateless: every later request carries the earlier conversation.
            let counts = requests.map(\.messages.count)
            #expect(counts == counts.sorted() && Set(counts).count == 3, "message counts \(counts)")
            #expect(requests.allSatisfy { $0.messagesContain(prompt) })
            // The Bash output went back to the model as a tool result.
            #expect(requests[2].messagesContain("hello from the fake"))
        }
    }

    @Test("an HTTP 500 with x-should-retry: false ends the run with an error result")
    func claudeReportsAPIError() async throws {
        let claude = try ClaudeBinary.locate()
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }

        let script: [ScriptedTurn] = [.httpError(status: 500, message: "scripted failure", shouldRetry: false)]
        try await withFake(script: script) { fake in
            let run = try await ClaudeRun.execute(claude, prompt: "Say hi", baseURL: fake.baseURL, apiKey: "test-key", scratch: scratch)

            #expect(run.exitCode == 1)
            let result = try #require(run.result, "no result line in stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)")
            #expect(result["is_error"]?.boolValue == true)
            #expect(result["api_error_status"]?.intValue == 500)
            #expect(fake.messagesRequests.count == 1)
            #expect(fake.messagesRequests.first?.header("x-api-key") == "test-key")
        }
    }

    // MARK: - On the wire, without claude

    @Test("a streamed turn is well-formed SSE whose deltas rebuild the scripted blocks")
    func streamedTurnIsWellFormedSSE() async throws {
        let input: FakeJSON = ["file_path": "{{cwd}}/notes/ä.txt", "content": "line one\nline two \"quoted\"\n"]
        let script: [ScriptedTurn] = [.toolUse("Write", input, text: "Let me write a fairly long explanation first, more than one delta.")]
        try await withFake(script: script) { fake in
            let body = Self.requestBody(stream: true, cwd: "/srv/project")
            let (data, response) = try await Self.post(body, to: fake.baseURL)

            #expect(response.statusCode == 200)
            #expect(response.value(forHTTPHeaderField: "content-type") == "text/event-stream")
            let events = try SSEEvent.parse(data)
            let names = events.map(\.name)
            #expect(Array(names.prefix(3)) == ["message_start", "ping", "content_block_start"])
            #expect(Array(names.suffix(3)) == ["content_block_stop", "message_delta", "message_stop"])
            #expect(names.filter { $0 == "content_block_start" }.count == 2)
            #expect(events.allSatisfy { $0.data["type"]?.stringValue == $0.name })

            let start = try #require(events.first?.data["message"])
            #expect(start["role"]?.stringValue == "assistant")
            #expect(start["model"]?.stringValue == "claude-opus-5-5")
            #expect((start["usage"]?["input_tokens"]?.intValue ?? 0) > 0)

            let deltas = events.filter { $0.name == "content_block_delta" }.compactMap { $0.data["delta"] }
            let text = deltas.filter { $0["type"]?.stringValue == "text_delta" }.compactMap { $0["text"]?.stringValue }
            #expect(text.count > 1)
            #expect(text.joined() == "Let me write a fairly long explanation first, more than one delta.")
            let partial = deltas.filter { $0["type"]?.stringValue == "input_json_delta" }.compactMap { $0["partial_json"]?.stringValue }
            #expect(partial.count > 1)
            let rebuilt = try FakeJSON.parse(partial.joined())
            #expect(rebuilt["file_path"]?.stringValue == "/srv/project/notes/ä.txt")
            #expect(rebuilt["content"] == input["content"])

            let toolStart = try #require(events.first { $0.data["content_block"]?["type"]?.stringValue == "tool_use" })
            #expect(toolStart.data["index"]?.intValue == 1)
            #expect(toolStart.data["content_block"]?["name"]?.stringValue == "Write")
            #expect(toolStart.data["content_block"]?["id"]?.stringValue?.hasPrefix("toolu_") == true)

            let messageDelta = try #require(events.first { $0.name == "message_delta" })
            #expect(messageDelta.data["delta"]?["stop_reason"]?.stringValue == "tool_use")
            #expect((messageDelta.data["usage"]?["output_tokens"]?.intValue ?? 0) > 0)
            #expect((messageDelta.data["usage"]?["input_tokens"]?.intValue ?? 0) > 0)
        }
    }

    @Test("each SSE event is its own HTTP chunk, and the connection is kept alive")
    func sseEventsAreSeparateChunksOnOneConnection() async throws {
        try await withFake(script: [.text("first"), .text("second")]) { fake in
            let body = Self.requestBody(stream: true, cwd: "/srv/project").jsonString
            let request = "POST /v1/messages?beta=true HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                + "content-length: \(body.utf8.count)\r\n\r\n" + body
            // Blocking socket reads run on their own thread: the fake is served from the cooperative pool.
            let port = fake.port
            let responses = try await BlockingWork.run {
                let connection = try RawHTTPConnection(port: port)
                defer { connection.disconnect() }
                return try (0..<3).map { _ in
                    try connection.sendText(request)
                    return try connection.readResponse()
                }
            }
            for (expected, response) in zip(["first", "second", "Done."], responses) {
                #expect(response.head.hasPrefix("HTTP/1.1 200"))
                #expect(response.head.lowercased().contains("transfer-encoding: chunked"))
                #expect(!response.head.lowercased().contains("connection: close"))
                let chunks = response.chunks.map { String(decoding: $0, as: UTF8.self) }
                #expect(chunks.count == 7, "chunks: \(chunks)")
                #expect(chunks.allSatisfy { $0.hasPrefix("event: ") && $0.hasSuffix("\n\n") && $0.components(separatedBy: "\n\n").count == 2 })
                #expect(chunks.contains { $0.contains("\"text\":\"\(expected)\"") })
            }
            #expect(fake.requests.count == 3)
        }
    }

    @Test("a non-streamed request gets a JSON message")
    func nonStreamedTurnIsJSONMessage() async throws {
        try await withFake(script: [.toolUse("Bash", ["command": "ls {{cwd}}"])]) { fake in
            let (data, response) = try await Self.post(Self.requestBody(stream: false, cwd: "/work/x"), to: fake.baseURL)
            #expect(response.statusCode == 200)
            #expect(response.value(forHTTPHeaderField: "content-type") == "application/json")
            let message = try FakeJSON.parse(data)
            #expect(message["type"]?.stringValue == "message")
            #expect(message["stop_reason"]?.stringValue == "tool_use")
            #expect(message["content"]?[0]?["type"]?.stringValue == "tool_use")
            #expect(message["content"]?[0]?["input"]?["command"]?.stringValue == "ls /work/x")
            #expect((message["usage"]?["output_tokens"]?.intValue ?? 0) > 0)
        }
    }

    @Test("an error turn sends the Anthropic error body and x-should-retry")
    func errorTurnSendsAnthropicErrorBody() async throws {
        try await withFake(script: [.httpError(status: 529, type: "overloaded_error", message: "busy", shouldRetry: false)]) { fake in
            let (data, response) = try await Self.post(Self.requestBody(stream: true, cwd: "/w"), to: fake.baseURL)
            #expect(response.statusCode == 529)
            #expect(response.value(forHTTPHeaderField: "x-should-retry") == "false")
            let body = try FakeJSON.parse(data)
            #expect(body == ["type": "error", "error": ["type": "overloaded_error", "message": "busy"]])
        }
    }

    @Test("only requests offering the core tool consume the script; then the final turn follows")
    func scriptConsumption() async throws {
        try await withFake(script: [.text("scripted")]) { fake in
            let noTools = Self.requestBody(stream: false, cwd: "/w", tools: [])
            let (first, _) = try await Self.post(noTools, to: fake.baseURL)
            #expect(try FakeJSON.parse(first)["content"]?[0]?["text"]?.stringValue == "OK.")
            #expect(fake.consumedTurnCount == 0)

            let (second, _) = try await Self.post(Self.requestBody(stream: false, cwd: "/w"), to: fake.baseURL)
            #expect(try FakeJSON.parse(second)["content"]?[0]?["text"]?.stringValue == "scripted")
            let (third, _) = try await Self.post(Self.requestBody(stream: false, cwd: "/w"), to: fake.baseURL)
            let final = try FakeJSON.parse(third)
            #expect(final["content"]?[0]?["text"]?.stringValue == "Done.")
            #expect(final["stop_reason"]?.stringValue == "end_turn")
            #expect(fake.requests.map(\.answer) == [.nonToolReply, .scripted(index: 0), .final])
            #expect(fake.remainingTurnCount == 0)
        }
    }

    @Test("the working directory is learned from system messages, environment updates and --bare prompts")
    func workingDirectoryDetection() throws {
        let regular: FakeJSON = [
            "system": [["type": "text", "text": "You are Claude Code."]],
            "messages": [
                ["role": "user", "content": "hi"],
                ["role": "system", "content": "# Environment\n - Primary working directory: /srv/a b\n - Is a git repository: false"],
            ],
        ]
        #expect(FakeAnthropicServer.workingDirectory(in: regular) == "/srv/a b")

        let resumed: FakeJSON = [
            "messages": [
                ["role": "system", "content": "Primary working directory: /srv/old"],
                ["role": "system", "content": [["type": "text", "text": "# Environment update - Primary working directory: /srv/new (was /srv/old)"]]],
            ],
        ]
        #expect(FakeAnthropicServer.workingDirectory(in: resumed) == "/srv/new")

        let bare: FakeJSON = ["system": "You are an agent.\nCWD: /tmp/bare\nDate: today", "messages": []]
        #expect(FakeAnthropicServer.workingDirectory(in: bare) == "/tmp/bare")
        #expect(FakeAnthropicServer.workingDirectory(in: ["messages": [["role": "user", "content": "no cwd"]]]) == nil)
    }

    @Test("a delayed turn answers late, a dropped stream breaks the response, a hanging turn ends on stop")
    func timingFaults() async throws {
        let script: [ScriptedTurn] = [
            .text("late").delayed(by: .milliseconds(400)),
            .text("never completes").droppingConnection(afterEvents: 3),
            .hang,
        ]
        let fake = FakeAnthropicServer(script: script)
        try await fake.start()
        do {
            let clock = ContinuousClock()
            let started = clock.now
            let (data, _) = try await Self.post(Self.requestBody(stream: true, cwd: "/w"), to: fake.baseURL)
            #expect(clock.now - started >= .milliseconds(400))
            #expect(try SSEEvent.parse(data).last?.name == "message_stop")

            await #expect(throws: (any Error).self) {
                _ = try await Self.post(Self.requestBody(stream: true, cwd: "/w"), to: fake.baseURL)
            }

            let baseURL = fake.baseURL
            // The client would give up after 300 s; the stop must end the request long before, and
            // as a lost connection, not as the client's timeout (the bound is generous: under a
            // loaded machine a stop took 11 s).
            let hanging = Task { try await Self.post(Self.requestBody(stream: true, cwd: "/w"), to: baseURL, timeout: 300) }
            #expect(await fake.waitForRequests(count: 3, timeout: .seconds(10)))
            try await Task.sleep(for: .milliseconds(200))
            let stopStarted = clock.now
            try await fake.stop()
            let ending = await hanging.result
            #expect(clock.now - stopStarted < .seconds(120))
            switch ending {
            case .success:
                Issue.record("a hanging turn answered")
            case .failure(let error):
                #expect((error as? URLError)?.code != .timedOut, "the request ended by the client's timeout, not the stop: \(error)")
            }
        } catch {
            try? await fake.stop()
            throw error
        }
    }

    @Test("a hanging turn on one connection does not hold up other connections")
    func hangingTurnDoesNotBlockOthers() async throws {
        try await withFake(script: [.hang, .text("still served")]) { fake in
            let baseURL = fake.baseURL
            let hanging = Task { try await Self.post(Self.requestBody(stream: true, cwd: "/w"), to: baseURL) }
            #expect(await fake.waitForRequests(count: 1, timeout: .seconds(10)))
            let (data, _) = try await Self.post(Self.requestBody(stream: true, cwd: "/w"), to: baseURL)
            let text = try SSEEvent.parse(data).compactMap { $0.data["delta"]?["text"]?.stringValue }.joined()
            #expect(text == "still served")
            hanging.cancel()
            _ = try? await hanging.value
        }
    }

    @Test("requests expose the decoded path and query and the raw query items")
    func requestParsing() {
        let request = HTTPRequest(
            method: "GET",
            uri: "/sandboxes/a%20b/files?path=%2Ftmp%2Fx%20y&flag&path=%2Flast&plus=a+b",
            headers: [(name: "X-Api-Key", value: "k")]
        )
        #expect(request.path == "/sandboxes/a b/files")
        #expect(request.query == ["path": "/last", "flag": "", "plus": "a+b"])
        #expect(request.rawQueryItems.first == HTTPRequest.QueryItem(name: "path", value: "%2Ftmp%2Fx%20y"))
        #expect(request.rawQueryItems.count == 4)
        #expect(request.header("x-api-key") == "k")
        #expect(request.header("missing") == nil)
    }

    // MARK: - Helpers

    /// Starts a fake, runs `body`, and always stops the fake.
    private func withFake(
        script: [ScriptedTurn],
        _ body: (FakeAnthropicServer) async throws -> Void
    ) async throws {
        let fake = FakeAnthropicServer(script: script)
        try await fake.start()
        do {
            try await body(fake)
        } catch {
            try? await fake.stop()
            throw error
        }
        try await fake.stop()
    }

    /// A Messages request body shaped like Claude Code's.
    private static func requestBody(stream: Bool, cwd: String, tools: [String] = ["Bash", "Read", "Write"]) -> FakeJSON {
        [
            "model": "claude-opus-5-5",
            "max_tokens": 128000,
            "stream": .bool(stream),
            "system": [["type": "text", "text": "You are Claude Code."]],
            "messages": [
                ["role": "user", "content": [["type": "text", "text": "hello"]]],
                ["role": "system", "content": .string("Here is useful information about the environment:\nPrimary working directory: \(cwd)\n")],
            ],
            "tools": .array(tools.map { ["name": .string($0), "input_schema": ["type": "object"]] }),
        ]
    }

    private static func post(_ body: FakeJSON, to baseURL: URL, timeout: TimeInterval = 30) async throws -> (Data, HTTPURLResponse) {
        var request = URLRequest(url: URL(string: "\(baseURL.absoluteString)/v1/messages?beta=true")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "content-type")
        request.setValue("test-key", forHTTPHeaderField: "x-api-key")
        request.httpBody = body.jsonData
        request.timeoutInterval = timeout
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        return (data, http)
    }
}

/// One server-sent event.
private struct SSEEvent {
    var name: String
    var data: FakeJSON

    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `event: X\ndata: {json}\n\n` blocks; anything else is an error.
    static func parse(_ data: Data) throws -> [SSEEvent] {
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasSuffix("\n\n") else { throw FormatError(description: "stream does not end with a blank line") }
        return try text.dropLast(2).components(separatedBy: "\n\n").map { block in
            let lines = block.components(separatedBy: "\n")
            guard lines.count == 2, lines[0].hasPrefix("event: "), lines[1].hasPrefix("data: ") else {
                throw FormatError(description: "malformed event block: \(block)")
            }
            return SSEEvent(name: String(lines[0].dropFirst(7)), data: try FakeJSON.parse(String(lines[1].dropFirst(6))))
        }
    }
}

/// A scratch tree for one claude run: a working directory plus isolated HOME, config and TMPDIR.
private struct ScratchDirectory {
    let root: URL
    var work: URL { root.appendingPathComponent("work") }
    var home: URL { root.appendingPathComponent("home") }
    var config: URL { root.appendingPathComponent("config") }
    var tmp: URL { root.appendingPathComponent("tmp") }

    init() throws {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).resolvingSymlinksInPath()
        root = base.appendingPathComponent("ca-fake-anthropic-\(UUID().uuidString)")
        for directory in [work, home, config, tmp] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}

/// The outcome of one `claude -p` run.
private struct ClaudeRun {
    var exitCode: Int32
    var stdout: String
    var stderr: String

    /// The stdout lines that parse as JSON.
    var lines: [FakeJSON] {
        stdout.split(separator: "\n").compactMap { try? FakeJSON.parse(String($0)) }
    }

    /// The `result` line.
    var result: FakeJSON? {
        lines.last { $0["type"]?.stringValue == "result" }
    }

    /// Runs claude headless in `scratch.work` with the environment from the reference notes.
    static func execute(
        _ claude: ClaudeBinary,
        prompt: String,
        baseURL: URL,
        apiKey: String,
        scratch: ScratchDirectory,
        timeout: Duration = .seconds(120)
    ) async throws -> ClaudeRun {
        let process = Process()
        process.executableURL = claude.url
        process.arguments = ["-p", prompt, "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"]
        process.currentDirectoryURL = scratch.work
        process.environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": scratch.home.path,
            "CLAUDE_CONFIG_DIR": scratch.config.path,
            "TMPDIR": scratch.tmp.path,
            "ANTHROPIC_BASE_URL": baseURL.absoluteString,
            "ANTHROPIC_API_KEY": apiKey,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "IS_SANDBOX": "1",
            "CLAUDE_CODE_MAX_RETRIES": "0",
        ]
        let stdoutURL = scratch.root.appendingPathComponent("stdout.jsonl")
        let stderrURL = scratch.root.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)
        defer {
            try? stdoutHandle.close()
            try? stderrHandle.close()
        }
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle

        let (exits, exitContinuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exitContinuation.yield(finished.terminationStatus)
            exitContinuation.finish()
        }
        try process.run()
        let pid = process.processIdentifier
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        var exitCode: Int32 = -1
        for await status in exits {
            exitCode = status
        }
        watchdog.cancel()

        return ClaudeRun(
            exitCode: exitCode,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        )
    }
}

/// A blocking HTTP/1.1 client on a raw socket, to see the exact chunk framing.
private final class RawHTTPConnection {
    struct Response: Sendable {
        var head: String
        var chunks: [Data]
    }

    struct SocketError: Error, CustomStringConvertible {
        var description: String
    }

    private let descriptor: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        #if canImport(Glibc)
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw SocketError(description: "socket() failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            _ = close(descriptor)
            throw SocketError(description: "connect() failed")
        }
    }

    func disconnect() {
        _ = close(descriptor)
    }

    func sendText(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
            guard sent > 0 else { throw SocketError(description: "send() failed") }
            offset += sent
        }
    }

    /// Reads one response with a chunked body and returns the head and each chunk's payload.
    func readResponse() throws -> Response {
        let head = String(decoding: try readUntil([13, 10, 13, 10]), as: UTF8.self)
        var chunks: [Data] = []
        while true {
            let sizeLine = String(decoding: try readUntil([13, 10]), as: UTF8.self)
            guard let size = Int(sizeLine.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) else {
                throw SocketError(description: "bad chunk size line \(sizeLine.debugDescription)")
            }
            if size == 0 {
                _ = try readUntil([13, 10])
                return Response(head: head, chunks: chunks)
            }
            let payload = try read(count: size)
            guard try read(count: 2) == [13, 10] else { throw SocketError(description: "chunk not followed by CRLF") }
            chunks.append(Data(payload))
        }
    }

    private func fill() throws {
        var scratch = [UInt8](repeating: 0, count: 4096)
        let received = scratch.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard received > 0 else { throw SocketError(description: "connection closed or timed out") }
        buffer += scratch[0..<received]
    }

    private func readUntil(_ terminator: [UInt8]) throws -> [UInt8] {
        while true {
            if buffer.count >= terminator.count {
                for start in 0...(buffer.count - terminator.count) where Array(buffer[start..<start + terminator.count]) == terminator {
                    let line = Array(buffer[0..<start + terminator.count])
                    buffer.removeFirst(start + terminator.count)
                    return line
                }
            }
            try fill()
        }
    }

    private func read(count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        let bytes = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return bytes
    }
}

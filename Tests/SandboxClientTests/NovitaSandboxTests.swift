import CATestSupport
import Foundation
import Testing
@testable import SandboxClient

@Suite(.serialized) struct NovitaSandboxTests {
    /// Runs `body` with a fresh sandbox of a fresh fake.
    private func withSandbox(
        options: FakeNovitaService.Options = .init(),
        backoff: Duration = .milliseconds(1),
        _ body: (NovitaFixture, NovitaSandbox) async throws -> Void
    ) async throws {
        try await NovitaFixture.run(options: options, backoff: backoff) { fixture in
            let sandbox = try await fixture.provider.createSandbox(SandboxSpec(lifetime: 120, environment: ["SANDBOX_VAR": "from-sandbox"]))
            do {
                try await body(fixture, sandbox)
            } catch {
                try? await sandbox.kill()
                throw error
            }
            try await sandbox.kill()
        }
    }

    /// Waits for the next stdout/stderr bytes, or fails after a while.
    private func nextOutput(_ iterator: inout CommandEvents.AsyncIterator) async throws -> CommandEvent? {
        try await iterator.next()
    }

    @Test func exitCodeZeroWithTheFieldOmitted() async throws {
        try await withSandbox { _, sandbox in
            let result = try await sandbox.run(script: "echo hello")
            #expect(result.stdoutText == "hello\n")
            #expect(result.stderrText == "")
            #expect(result.exit == CommandExit(code: 0, status: "exit status 0"))
        }
    }

    @Test func nonZeroExitAndStderr() async throws {
        try await withSandbox { _, sandbox in
            let result = try await sandbox.run(script: "echo out; echo err >&2; exit 3")
            #expect(result.stdoutText == "out\n")
            #expect(result.stderrText == "err\n")
            #expect(result.exit.code == 3)
            #expect(result.exit.status == "exit status 3")
            #expect(!result.exit.succeeded)
        }
    }

    @Test func outputArrivesBeforeTheProcessEnds() async throws {
        try await withSandbox { fixture, sandbox in
            let handle = try await sandbox.start(CommandSpec(shell: "echo first; read line; echo \"second $line\"", stdin: true))
            #expect(handle.pid > 0)
            var iterator = handle.events.makeAsyncIterator()
            // The process blocks on `read`, so this output can only have been streamed.
            #expect(try await nextOutput(&iterator) == .stdout(Data("first\n".utf8)))
            try await handle.sendInput(Data("typed\n".utf8))
            #expect(try await nextOutput(&iterator) == .stdout(Data("second typed\n".utf8)))
            #expect(try await nextOutput(&iterator) == .exit(CommandExit(code: 0, status: "exit status 0")))
            #expect(try await nextOutput(&iterator) == nil)
            let input = try #require(fixture.fake.requests(path: "/process.Process/SendInput").first)
            #expect(input.header("content-type") == "application/json")
            #expect(input.header("connect-protocol-version") == "1")
            let message = try #require(input.jsonObject)
            #expect((message["process"] as? [String: Any])?["pid"] as? Int == handle.pid)
            #expect((message["input"] as? [String: String])?["stdin"] == Data("typed\n".utf8).base64EncodedString())
            let start = try #require(fixture.fake.requests(path: "/process.Process/Start").last)
            let startBody = try #require(String(data: start.body.dropFirst(5), encoding: .utf8))
            #expect(startBody.contains("\"stdin\":true"))
            #expect(startBody.contains("\"cmd\":\"\\/bin\\/bash\"") || startBody.contains("\"cmd\":\"/bin/bash\""))
        }
    }

    @Test func closingStdinEndsACat() async throws {
        try await withSandbox { _, sandbox in
            let handle = try await sandbox.start(CommandSpec(executable: "cat", stdin: true))
            try await handle.sendInput(Data("abc".utf8))
            try await handle.closeInput()
            let result = try await handle.collect()
            #expect(result.stdoutText == "abc")
            #expect(result.exit.code == 0)
        }
    }

    @Test func withoutStdinTheProcessReadsNothing() async throws {
        try await withSandbox { _, sandbox in
            let result = try await sandbox.run(CommandSpec(shell: "cat; echo done"))
            #expect(result.stdoutText == "done\n")
        }
    }

    @Test func moreConcurrentStreamsThanTheDefaultPoolSize() async throws {
        try await withSandbox { _, sandbox in
            var handles: [CommandHandle] = []
            for index in 0..<12 {
                handles.append(try await sandbox.start(CommandSpec(shell: "read x; echo \"\(index) $x\"", stdin: true)))
            }
            // Every stream is open and blocked; stdin writes must still get through.
            for handle in handles {
                try await handle.sendInput(Data("go\n".utf8))
            }
            for (index, handle) in handles.enumerated() {
                let result = try await handle.collect()
                #expect(result.stdoutText == "\(index) go\n")
            }
        }
    }

    @Test func killingAProcess() async throws {
        try await withSandbox { _, sandbox in
            let handle = try await sandbox.start(CommandSpec(shell: "echo started; sleep 30"))
            var iterator = handle.events.makeAsyncIterator()
            #expect(try await nextOutput(&iterator) == .stdout(Data("started\n".utf8)))
            let began = ContinuousClock.now
            try await handle.signal(.kill)
            let end = try await nextOutput(&iterator)
            #expect(end == .exit(CommandExit(code: -1, status: "signal: killed")))
            #expect(ContinuousClock.now - began < .seconds(25), "killed, not waited out (sleep 30)")
            try await handle.signal(.kill)  // no longer running: not an error
        }
    }

    @Test func workingDirectoryAndEnvironment() async throws {
        try await withSandbox { fixture, sandbox in
            #expect(try await sandbox.makeDirectory("/home/user/work/sub") == true)
            let spec = CommandSpec(shell: "pwd; echo \"$FOO $SANDBOX_VAR\"; echo $HOME", cwd: "/home/user/work/sub", environment: ["FOO": "bar"])
            let result = try await sandbox.run(spec)
            let lines = result.stdoutText.split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            #expect(lines[1] == "bar from-sandbox")
            if fixture.fake.usesBubblewrap {
                #expect(lines[0] == "/home/user/work/sub")
                #expect(lines[2] == "/home/user")
            }
            let error = await caughtError { () async throws(SandboxError) in try await sandbox.run(CommandSpec(shell: "true", cwd: "/home/user/missing")) }
            #expect(error?.caseName == "invalidArgument", "started in a missing folder: \(String(describing: error))")
            #expect(error?.description.contains("/home/user/missing") == true)
        }
    }

    @Test func keepalivesAreIgnored() async throws {
        try await withSandbox(options: .init(keepaliveInterval: .milliseconds(50))) { _, sandbox in
            let result = try await sandbox.run(script: "sleep 0.4; echo done")
            #expect(result.stdoutText == "done\n")
            #expect(result.exit.code == 0)
        }
    }

    @Test func streamCutMidWayIsReattachedWithoutLosingLaterOutput() async throws {
        try await withSandbox { fixture, sandbox in
            // Message 1 is `start`, message 2 is "one": the connection drops right after it.
            fixture.fake.cutProcessStreams(afterEvents: 2)
            let handle = try await sandbox.start(CommandSpec(shell: "echo one; read a; echo \"two $a\"; read b; echo \"three $b\"; exit 4", stdin: true))
            var iterator = handle.events.makeAsyncIterator()
            #expect(try await nextOutput(&iterator) == .stdout(Data("one\n".utf8)))
            // Wait until the client has re-attached with Connect before producing more output.
            let deadline = ContinuousClock.now + .seconds(10)
            while fixture.fake.processAttachCount < 2 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(fixture.fake.processAttachCount == 2)
            try await handle.sendInput(Data("A\n".utf8))
            #expect(try await nextOutput(&iterator) == .stdout(Data("two A\n".utf8)))
            try await handle.sendInput(Data("B\n".utf8))
            #expect(try await nextOutput(&iterator) == .stdout(Data("three B\n".utf8)))
            #expect(try await nextOutput(&iterator) == .exit(CommandExit(code: 4, status: "exit status 4")))
            let connect = try #require(fixture.fake.requests(path: "/process.Process/Connect").first)
            let body = try #require(try JSONSerialization.jsonObject(with: connect.body.dropFirst(5)) as? [String: Any])
            #expect((body["process"] as? [String: Any])?["pid"] as? Int == handle.pid)
            #expect(connect.header("Keepalive-Ping-Interval") == "50")
        }
    }

    @Test func reattachGivesUpAfterRepeatedBreaks() async throws {
        try await withSandbox { fixture, sandbox in
            fixture.fake.cutProcessStreams(afterEvents: 1, times: 20)
            let handle = try await sandbox.start(CommandSpec(shell: "sleep 20"))
            let error = await caughtError { () async throws(SandboxError) in try await handle.collect() }
            #expect(error?.caseName == "streamEnded", "\(String(describing: error))")
            #expect(fixture.fake.requests(path: "/process.Process/Connect").count == 3)
        }
    }

    @Test func reattachToAFinishedProcessReportsTheLostExit() async throws {
        // The backoff before re-attaching outlasts the process, so Connect finds no such pid.
        try await withSandbox(backoff: .milliseconds(700)) { fixture, sandbox in
            fixture.fake.cutProcessStreams(afterEvents: 1)
            let handle = try await sandbox.start(CommandSpec(shell: "exit 0"))
            let error = await caughtError { () async throws(SandboxError) in try await handle.collect() }
            #expect(error?.caseName == "streamEnded", "\(String(describing: error))")
            #expect(error?.description.contains("exit status is lost") == true)
            #expect(fixture.fake.requests(path: "/process.Process/Connect").count == 1)
        }
    }

    @Test func megabyteBinaryRoundTrip() async throws {
        try await withSandbox { fixture, sandbox in
            var generator = SystemRandomNumberGenerator()
            let contents = Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            try await sandbox.writeFile("/home/user/data/blob.bin", contents: contents)
            #expect(try await sandbox.readFile("/home/user/data/blob.bin") == contents)
            let upload = try #require(fixture.fake.requests(path: "/files").first { $0.method == "POST" })
            #expect(upload.rawQuery == "path=/home/user/data/blob.bin")
            #expect(upload.header("Content-Type")?.hasPrefix("multipart/form-data; boundary=") == true)
            #expect(String(decoding: upload.body.prefix(300), as: UTF8.self).contains("name=\"file\"; filename=\"/home/user/data/blob.bin\""))
            let token = try #require(upload.header("X-Access-Token"))
            #expect(!token.isEmpty)
            var dumped = ""
            dump(sandbox, to: &dumped)
            for text in [String(describing: sandbox), String(reflecting: sandbox), dumped] {
                #expect(!text.contains(token))
            }
            let home = try #require(fixture.fake.homeFolder(sandboxID: sandbox.id))
            #expect(try Data(contentsOf: home.appendingPathComponent("data/blob.bin")) == contents)
            // The process sees the uploaded bytes too.
            let result = try await sandbox.run(script: "wc -c < data/blob.bin")
            #expect(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "1048576")
        }
    }

    @Test func fileSystemOperations() async throws {
        try await withSandbox { _, sandbox in
            try await sandbox.writeFile("notes/a.txt", contents: Data("hello".utf8))
            let entry = try #require(try await sandbox.stat("/home/user/notes/a.txt"))
            #expect(entry == FileEntry(name: "a.txt", path: "/home/user/notes/a.txt", kind: .file, size: 5))
            #expect(try await sandbox.stat("/home/user/nothing") == nil)
            #expect(try await sandbox.makeDirectory("/home/user/notes/deep/er") == true)
            #expect(try await sandbox.makeDirectory("/home/user/notes/deep") == false)
            let shallow = try await sandbox.listDirectory("/home/user/notes", depth: 1)
            #expect(shallow.map(\.name) == ["a.txt", "deep"])
            #expect(shallow.map(\.kind) == [.file, .directory])
            let deep = try await sandbox.listDirectory("/home/user/notes", depth: 3)
            #expect(deep.map(\.path) == ["/home/user/notes/a.txt", "/home/user/notes/deep", "/home/user/notes/deep/er"])
            let moved = try await sandbox.move(from: "/home/user/notes/a.txt", to: "/home/user/notes/b.txt")
            #expect(moved?.path == "/home/user/notes/b.txt")
            #expect(try await sandbox.readFile("/home/user/notes/b.txt") == Data("hello".utf8))
            try await sandbox.remove("/home/user/notes")
            try await sandbox.remove("/home/user/notes")  // nothing left: not an error
            #expect(try await sandbox.stat("/home/user/notes") == nil)
            let readError = await caughtError { () async throws(SandboxError) in try await sandbox.readFile("/home/user/notes/b.txt") }
            #expect(readError?.caseName == "fileNotFound", "\(String(describing: readError))")
            let listError = await caughtError { () async throws(SandboxError) in try await sandbox.listDirectory("/home/user/notes", depth: 1) }
            #expect(listError?.caseName == "fileNotFound", "\(String(describing: listError))")
        }
    }

    @Test func readsAreRetriedAfterOverload() async throws {
        try await withSandbox { fixture, sandbox in
            try await sandbox.writeFile("/home/user/r.txt", contents: Data("r".utf8))
            fixture.fake.injectFault(.status(503), path: "/files", method: "GET", times: 2)
            fixture.fake.injectFault(.status(429, retryAfter: 1), path: "/filesystem.Filesystem/Stat")
            #expect(try await sandbox.readFile("/home/user/r.txt") == Data("r".utf8))
            #expect(try await sandbox.stat("/home/user/r.txt")?.size == 1)
            #expect(fixture.fake.requests(path: "/files").filter { $0.method == "GET" }.count == 3)
            #expect(fixture.sleepLog.all.contains(.seconds(1)))
        }
    }
}

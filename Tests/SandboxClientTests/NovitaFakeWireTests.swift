import CATestSupport
import Foundation
import Testing
@testable import SandboxClient

/// Checks the fake's bytes on the wire against the reference, below our client.
@Suite(.serialized) struct NovitaFakeWireTests {
    private struct Wire {
        let fake: FakeNovitaService
        let transport: AsyncHTTPClientTransport
        let sandboxID: String
        let token: String

        func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: Data? = nil, authenticated: Bool = true) async throws -> (status: Int, headers: [(name: String, value: String)], chunks: [Data]) {
            var all = headers.map { (name: $0.0, value: $0.1) }
            if authenticated {
                all.append(("X-Access-Token", token))
                all.append(("Novita-Sandbox-Id", sandboxID))
            }
            let request = NovitaHTTPRequest(method: method, url: URL(string: fake.baseURL.absoluteString + target)!, headers: all, body: body, timeout: .seconds(20))
            let response = try await transport.send(request)
            var chunks: [Data] = []
            for try await chunk in response.body { chunks.append(chunk) }
            return (response.status, response.headers, chunks)
        }
    }

    private func withWire(_ body: (Wire) async throws -> Void) async throws {
        let fake = FakeNovitaService()
        try await fake.start()
        let transport = AsyncHTTPClientTransport()
        do {
            let create = NovitaHTTPRequest(
                method: "POST",
                url: fake.baseURL.appendingPathComponent("sandboxes"),
                headers: [("X-API-KEY", fake.apiKey), ("Content-Type", "application/json")],
                body: Data(#"{"templateID":"base","timeout":60,"secure":true}"#.utf8),
                timeout: .seconds(20)
            )
            let response = try await transport.send(create)
            let data = try await response.body.collect(limit: 1 << 20)
            #expect(response.status == 201)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let wire = Wire(fake: fake, transport: transport, sandboxID: try #require(object["sandboxID"] as? String), token: try #require(object["envdAccessToken"] as? String))
            #expect(object["envdVersion"] as? String != nil)
            #expect(object.keys.contains("domain"))
            try await body(wire)
        } catch {
            await transport.shutdown()
            try await fake.stop()
            throw error
        }
        await transport.shutdown()
        try await fake.stop()
    }

    private func envelope(_ json: String) -> Data {
        ConnectEnvelope(payload: Data(json.utf8)).encoded()
    }

    @Test func processStreamFramingAndEndEncoding() async throws {
        try await withWire { wire in
            let request = envelope(#"{"process":{"cmd":"/bin/bash","args":["-c","printf hi"]},"stdin":false}"#)
            let (status, headers, chunks) = try await wire.send("POST", "/process.Process/Start", headers: [("content-type", "application/connect+json"), ("connect-protocol-version", "1")], body: request)
            #expect(status == 200)
            #expect(headers.first { $0.name.lowercased() == "content-type" }?.value == "application/connect+json")
            var decoder = EnvelopeDecoder()
            var messages: [ConnectEnvelope] = []
            for chunk in chunks {
                decoder.append(chunk)
                while let next = try decoder.next() { messages.append(next) }
            }
            let texts = messages.map { String(decoding: $0.payload, as: UTF8.self) }
            #expect(texts.count == 4)
            #expect(texts.first?.hasPrefix(#"{"event":{"start":{"pid":"#) == true)
            #expect(texts[1] == #"{"event":{"data":{"stdout":"aGk="}}}"#)
            // exit 0: exitCode omitted (protobuf JSON default).
            #expect(texts[2] == #"{"event":{"end":{"exited":true,"status":"exit status 0"}}}"#)
            #expect(texts[3] == "{}" && messages[3].isEndOfStream)
            #expect(chunks.count > messages.count, "envelopes should straddle HTTP chunks")

            let failing = envelope(#"{"process":{"cmd":"/bin/bash","args":["-c","exit 2"]}}"#)
            let (_, _, failingChunks) = try await wire.send("POST", "/process.Process/Start", headers: [("content-type", "application/connect+json")], body: failing)
            var second = EnvelopeDecoder()
            second.append(failingChunks.reduce(Data(), +))
            var payloads: [String] = []
            while let next = try second.next() { payloads.append(String(decoding: next.payload, as: UTF8.self)) }
            #expect(payloads.contains(#"{"event":{"end":{"error":"exit status 2","exitCode":2,"exited":true,"status":"exit status 2"}}}"#))

            let badCwd = envelope(#"{"process":{"cmd":"true","cwd":"/nowhere"}}"#)
            let (badStatus, _, badChunks) = try await wire.send("POST", "/process.Process/Start", headers: [("content-type", "application/connect+json")], body: badCwd)
            #expect(badStatus == 200)
            var third = EnvelopeDecoder()
            third.append(badChunks.reduce(Data(), +))
            let end = try #require(try third.next())
            #expect(end.isEndOfStream)
            #expect(ConnectError(endOfStreamPayload: end.payload)?.code == "invalid_argument")
        }
    }

    /// Pause and resume as the reference (§3.3, §3.5) and the SDK have them: 204 then 409 on a
    /// second pause, `state: paused` in GET and the list, envd unreachable while paused, 201 on
    /// the connect that resumes it and 200 on the next, 404 for unknown ids; files are kept.
    @Test func pauseAndConnectStatuses() async throws {
        try await withWire { wire in
            let rest = [("X-API-KEY", wire.fake.apiKey), ("Content-Type", "application/json")]
            let files = [("content-type", "application/json"), ("connect-protocol-version", "1")]
            let (made, _, _) = try await wire.send("POST", "/filesystem.Filesystem/MakeDir", headers: files, body: Data(#"{"path":"kept"}"#.utf8))
            #expect(made == 200)

            let (paused, _, pausedBody) = try await wire.send("POST", "/sandboxes/\(wire.sandboxID)/pause", headers: rest, authenticated: false)
            #expect(paused == 204 && pausedBody.reduce(Data(), +).isEmpty)
            let (again, _, _) = try await wire.send("POST", "/sandboxes/\(wire.sandboxID)/pause", headers: rest, authenticated: false)
            #expect(again == 409)
            let (detail, _, detailBody) = try await wire.send("GET", "/sandboxes/\(wire.sandboxID)", headers: rest, authenticated: false)
            #expect(detail == 200)
            #expect((try JSONSerialization.jsonObject(with: detailBody.reduce(Data(), +)) as? [String: Any])?["state"] as? String == "paused")
            let (listed, _, listBody) = try await wire.send("GET", "/v2/sandboxes?state=paused", headers: rest, authenticated: false)
            #expect(listed == 200)
            let entries = try JSONSerialization.jsonObject(with: listBody.reduce(Data(), +)) as? [[String: Any]]
            #expect(entries?.map { $0["sandboxID"] as? String } == [wire.sandboxID])
            let (running, _, runningBody) = try await wire.send("GET", "/v2/sandboxes?state=running", headers: rest, authenticated: false)
            let runningEntries = try JSONSerialization.jsonObject(with: runningBody.reduce(Data(), +)) as? [Any]
            #expect(running == 200 && runningEntries?.isEmpty == true)
            // envd does not answer for a paused sandbox.
            let (frozen, _, _) = try await wire.send("POST", "/filesystem.Filesystem/Stat", headers: files, body: Data(#"{"path":"kept"}"#.utf8))
            #expect(frozen == 502)

            let (resumed, _, resumedBody) = try await wire.send("POST", "/sandboxes/\(wire.sandboxID)/connect", headers: rest, body: Data(#"{"timeout":60}"#.utf8), authenticated: false)
            #expect(resumed == 201)
            #expect((try JSONSerialization.jsonObject(with: resumedBody.reduce(Data(), +)) as? [String: Any])?["sandboxID"] as? String == wire.sandboxID)
            let (attached, _, _) = try await wire.send("POST", "/sandboxes/\(wire.sandboxID)/connect", headers: rest, body: Data(#"{"timeout":60}"#.utf8), authenticated: false)
            #expect(attached == 200)
            let (stat, _, _) = try await wire.send("POST", "/filesystem.Filesystem/Stat", headers: files, body: Data(#"{"path":"kept"}"#.utf8))
            #expect(stat == 200, "the folder made before the pause is gone")

            let (unknownPause, _, _) = try await wire.send("POST", "/sandboxes/inosuchsandbox/pause", headers: rest, authenticated: false)
            #expect(unknownPause == 404)
            let (unknownConnect, _, _) = try await wire.send("POST", "/sandboxes/inosuchsandbox/connect", headers: rest, body: Data(#"{"timeout":60}"#.utf8), authenticated: false)
            #expect(unknownConnect == 404)
        }
    }

    @Test func unaryErrorsUseStringCodes() async throws {
        try await withWire { wire in
            let headers = [("content-type", "application/json"), ("connect-protocol-version", "1")]
            let (status, _, chunks) = try await wire.send("POST", "/filesystem.Filesystem/Stat", headers: headers, body: Data(#"{"path":"/home/user/none"}"#.utf8))
            #expect(status == 404)
            let object = try #require(try JSONSerialization.jsonObject(with: chunks.reduce(Data(), +)) as? [String: Any])
            #expect(object["code"] as? String == "not_found")
            let (created, _, _) = try await wire.send("POST", "/filesystem.Filesystem/MakeDir", headers: headers, body: Data(#"{"path":"d"}"#.utf8))
            #expect(created == 200)
            let (exists, _, existsBody) = try await wire.send("POST", "/filesystem.Filesystem/MakeDir", headers: headers, body: Data(#"{"path":"d"}"#.utf8))
            #expect(exists == 409)
            #expect(ConnectError(httpStatus: exists, body: existsBody.reduce(Data(), +)).code == "already_exists")
        }
    }

    @Test func accessTokenAndAPIKeyAreChecked() async throws {
        try await withWire { wire in
            let headers = [("content-type", "application/json"), ("X-Access-Token", "wrong"), ("Novita-Sandbox-Id", wire.sandboxID)]
            let (status, _, chunks) = try await wire.send("POST", "/filesystem.Filesystem/Stat", headers: headers, body: Data(#"{"path":"/"}"#.utf8), authenticated: false)
            #expect(status == 401)
            let error = ConnectError(httpStatus: status, body: chunks.reduce(Data(), +))
            #expect(error.code == "unauthenticated")
            #expect(error.sandboxError(subject: "/").caseName == "unauthorized")
            let (restStatus, _, restBody) = try await wire.send("GET", "/v2/sandboxes", headers: [("X-API-KEY", "nope")], authenticated: false)
            #expect(restStatus == 401)
            let object = try #require(try JSONSerialization.jsonObject(with: restBody.reduce(Data(), +)) as? [String: Any])
            #expect(object["code"] as? Int == 401)
            #expect(object["message"] is String)
        }
    }

    @Test func octetStreamUploadAndDownload() async throws {
        try await withWire { wire in
            let bytes = Data((0..<3000).map { UInt8($0 % 251) })
            let (status, _, chunks) = try await wire.send("POST", "/files?path=raw/data.bin", headers: [("Content-Type", "application/octet-stream")], body: bytes)
            #expect(status == 200)
            let written = try #require(try JSONSerialization.jsonObject(with: chunks.reduce(Data(), +)) as? [[String: String]])
            #expect(written == [["path": "/home/user/raw/data.bin", "name": "data.bin", "type": "file"]])
            let (downloaded, _, body) = try await wire.send("GET", "/files?path=%2Fhome%2Fuser%2Fraw%2Fdata.bin")
            #expect(downloaded == 200)
            #expect(body.reduce(Data(), +) == bytes)
            let (missing, _, missingBody) = try await wire.send("GET", "/files?path=/home/user/nothing")
            #expect(missing == 404)
            let object = try #require(try JSONSerialization.jsonObject(with: missingBody.reduce(Data(), +)) as? [String: Any])
            #expect(object["code"] as? Int == 404)
        }
    }
}

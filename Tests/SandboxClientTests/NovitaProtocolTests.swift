import Foundation
import Testing
@testable import SandboxClient

/// Unit tests of the Novita wire pieces that need no server.
@Suite struct NovitaProtocolTests {
    private func envelope(_ json: String, flags: UInt8 = 0) -> Data {
        ConnectEnvelope(flags: flags, payload: Data(json.utf8)).encoded()
    }

    @Test func envelopeEncodingIsBigEndianLengthPrefixed() {
        let payload = Data(repeating: 0x41, count: 188)
        let bytes = [UInt8](ConnectEnvelope(payload: payload).encoded())
        #expect(bytes.count == 193)
        #expect(Array(bytes.prefix(5)) == [0x00, 0x00, 0x00, 0x00, 0xbc])
        let big = [UInt8](ConnectEnvelope(flags: 0x02, payload: Data(count: 0x01_02_03)).encoded())
        #expect(Array(big.prefix(5)) == [0x02, 0x00, 0x01, 0x02, 0x03])
    }

    @Test func decoderHandlesEverySplitPoint() throws {
        let messages = [#"{"event":{"start":{"pid":7}}}"#, #"{"event":{"data":{"stdout":"aGVsbG8K"}}}"#, "{}", #"{"event":{"end":{"exited":true,"status":"exit status 0"}}}"#]
        var stream = Data()
        for message in messages { stream.append(envelope(message)) }
        stream.append(envelope("{}", flags: 0x02))

        for first in 0...stream.count {
            for second in first...stream.count where second == first || second == stream.count || (second - first) % 7 == 0 {
                var decoder = EnvelopeDecoder()
                var decoded: [ConnectEnvelope] = []
                for chunk in [stream[0..<first], stream[first..<second], stream[second...]] {
                    decoder.append(Data(chunk))
                    while let next = try decoder.next() { decoded.append(next) }
                }
                #expect(decoded.map { String(decoding: $0.payload, as: UTF8.self) } == messages + ["{}"])
                #expect(decoded.last?.isEndOfStream == true)
                #expect(decoded.dropLast().allSatisfy { !$0.isEndOfStream })
                #expect(decoder.bufferedByteCount == 0)
            }
        }
    }

    @Test func decoderFedOneByteAtATime() throws {
        let payloads = (0..<50).map { index in String(repeating: "x", count: index * 37) }
        var stream = Data()
        for payload in payloads { stream.append(envelope(payload)) }
        var decoder = EnvelopeDecoder()
        var decoded: [String] = []
        for byte in stream {
            decoder.append(Data([byte]))
            while let next = try decoder.next() { decoded.append(String(decoding: next.payload, as: UTF8.self)) }
        }
        #expect(decoded == payloads)
    }

    @Test func decoderWaitsForIncompletePrefixAndRejectsHugeLengths() throws {
        var decoder = EnvelopeDecoder(maximumPayloadLength: 1024)
        decoder.append(Data([0x00, 0x00, 0x00]))
        #expect(try decoder.next() == nil)
        decoder.append(Data([0x10, 0x00]))
        #expect(throws: SandboxError.self) { try decoder.next() }
    }

    @Test func connectErrorsDecodeStringAndIntegerCodes() {
        let named = ConnectError(httpStatus: 404, body: Data(#"{"code":"not_found","message":"nope"}"#.utf8))
        #expect(named.code == "not_found" && named.message == "nope")
        let numbered = ConnectError(httpStatus: 401, body: Data(#"{"code":401,"message":"bad token"}"#.utf8))
        #expect(numbered.code == "unauthenticated")
        let text = ConnectError(httpStatus: 502, body: Data("Bad Gateway".utf8))
        #expect(text.code == "unknown" && text.message == "Bad Gateway")
        #expect(ConnectError(code: "already_exists", message: "x").sandboxError(subject: "/a") == .invalidArgument("/a: x"))
        #expect(ConnectError(code: "resource_exhausted", message: "x").sandboxError(subject: "s") == .limitReached("s: x"))
        #expect(ConnectError(endOfStreamPayload: Data(#"{"error":{"code":"invalid_argument","message":"cwd"}}"#.utf8))?.code == "invalid_argument")
        #expect(ConnectError(endOfStreamPayload: Data("{}".utf8)) == nil)
    }

    @Test func endEventWithoutExitCodeMeansZero() throws {
        func exit(_ json: String) throws -> CommandExit {
            try JSONDecoder().decode(NovitaEnvdModels.ProcessMessage.self, from: Data(json.utf8)).event!.end!.commandExit
        }
        #expect(try exit(#"{"event":{"end":{"exited":true,"status":"exit status 0"}}}"#) == CommandExit(code: 0, status: "exit status 0"))
        #expect(try exit(#"{"event":{"end":{"exitCode":3,"exited":true,"status":"exit status 3","error":"exit status 3"}}}"#).code == 3)
        #expect(try exit(#"{"event":{"end":{"exitCode":-1,"status":"signal: killed","error":"signal: killed"}}}"#) == CommandExit(code: -1, status: "signal: killed"))
        #expect(try exit(#"{"event":{"end":{"status":"signal: killed"}}}"#).code == -1)
    }

    @Test func entryInfoMapsInt64StringsAndEnums() throws {
        let json = #"{"entries":[{"name":"a","type":"FILE_TYPE_FILE","path":"/home/user/a","size":"12"},{"name":"d","type":2,"path":"/home/user/d","size":4096},{"name":"l","type":"FILE_TYPE_FILE","path":"/home/user/l","size":"3","symlinkTarget":"/home/user/a"}]}"#
        let entries = try JSONDecoder().decode(NovitaEnvdModels.ListDirResponse.self, from: Data(json.utf8)).entries!.map(\.fileEntry)
        #expect(entries[0] == FileEntry(name: "a", path: "/home/user/a", kind: .file, size: 12))
        #expect(entries[1].kind == .directory && entries[1].size == 4096)
        #expect(entries[2].kind == .symlink && entries[2].symlinkTarget == "/home/user/a")
    }

    @Test func metadataFilterIsEncodedLikeTheSDK() {
        #expect(NovitaPercentEncoding.metadataQueryValue(["owner": "ca"]) == "owner%3Dca")
        #expect(NovitaPercentEncoding.metadataQueryValue(["owner": "c a"]) == "owner%3Dc%252520a")
        #expect(NovitaPercentEncoding.metadataQueryValue(["b": "2", "a": "1"]) == "a%3D1%26b%3D2")
        #expect(NovitaPercentEncoding.encode("running,paused") == "running%2Cpaused")
    }

    @Test func retryDelaysGrowAndHonourRetryAfter() {
        let policy = NovitaRetryPolicy(initialDelay: .milliseconds(500), maximumDelay: .seconds(4), maximumRetryAfter: .seconds(30), random: { $0.upperBound })
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil) == .milliseconds(500))
        #expect(policy.delay(afterAttempt: 2, retryAfter: nil) == .seconds(1))
        #expect(policy.delay(afterAttempt: 5, retryAfter: nil) == .seconds(4))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(7)) == .seconds(7))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(700)) == .seconds(30))
        let jittered = NovitaRetryPolicy(initialDelay: .seconds(1), random: { $0.lowerBound })
        #expect(jittered.delay(afterAttempt: 1, retryAfter: nil) == .milliseconds(500))
        #expect(NovitaRetryPolicy.retryAfter("3") == .seconds(3))
        #expect(NovitaRetryPolicy.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
    }

    @Test func multipartBodyHasOneFilePartNamedAfterThePath() {
        var form = NovitaMultipartForm(boundary: "XYZ")
        form.addFile(field: "file", filename: "/home/user/a \"b\".txt", contents: Data("hi".utf8))
        let text = String(decoding: form.encoded(), as: UTF8.self)
        #expect(form.contentType == "multipart/form-data; boundary=XYZ")
        #expect(text == "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"/home/user/a %22b%22.txt\"\r\nContent-Type: application/octet-stream\r\n\r\nhi\r\n--XYZ--\r\n")
    }
}

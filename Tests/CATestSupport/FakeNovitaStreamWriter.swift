import Foundation

/// Writes a Connect server-streaming response of the fake envd: enveloped JSON messages, deliberately
/// split across HTTP chunks, then the end-of-stream message.
struct FakeNovitaStreamWriter: Sendable {
    let writer: HTTPResponseWriter
    /// Write every envelope in three pieces (inside the prefix and inside the payload).
    let splitsEnvelopes: Bool
    /// Drop the connection after this many messages (to force a re-attach).
    let cutAfter: Int?

    private enum Item: Sendable {
        case event(FakeNovitaProcess.Event)
        case keepalive
        case eventsEnded
    }

    private struct Cut: Error {}

    /// Answers with a stream that holds only an end-of-stream message carrying an error (HTTP 200).
    func fail(_ code: String, _ message: String) async {
        do {
            try await writer.writeHead(status: 200, headers: [("content-type", "application/connect+json")])
            try await writeEnvelope(flags: 0x02, ["error": ["code": code, "message": message]])
            try await writer.end()
        } catch {}
    }

    /// Streams a process's events: `start`, output, keepalives, `end`, end-of-stream.
    func run(pid: UInt32, events: AsyncStream<FakeNovitaProcess.Event>, keepalive: Duration) async {
        var sent = 0
        func send(_ event: [String: Any]) async throws {
            try await writeEnvelope(flags: 0, ["event": event])
            sent += 1
            if let cutAfter, sent >= cutAfter {
                // Let the client read what was sent before the connection drops: closing a socket at
                // once can make the peer discard bytes it has received but not yet handed over.
                try? await Task.sleep(for: .milliseconds(100))
                await writer.abort()
                throw Cut()
            }
        }
        do {
            try await writer.writeHead(status: 200, headers: [("content-type", "application/connect+json")])
            try await send(["start": ["pid": Int(pid)]])
        } catch {
            return
        }
        let (merged, continuation) = AsyncStream<Item>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events { continuation.yield(.event(event)) }
                continuation.yield(.eventsEnded)
            }
            group.addTask {
                while true {
                    do {
                        try await Task.sleep(for: keepalive)
                    } catch {
                        return
                    }
                    continuation.yield(.keepalive)
                }
            }
            do {
                loop: for await item in merged {
                    switch item {
                    case .event(.stdout(let data)):
                        try await send(["data": ["stdout": data.base64EncodedString()]])
                    case .event(.stderr(let data)):
                        try await send(["data": ["stderr": data.base64EncodedString()]])
                    case .event(.end(let exit)):
                        // Protobuf JSON omits fields at their default: exitCode 0 and exited false.
                        var end: [String: Any] = ["status": exit.status]
                        if exit.code != 0 { end["exitCode"] = Int(exit.code) }
                        if exit.exited { end["exited"] = true }
                        if exit.code != 0 || !exit.exited { end["error"] = exit.status }
                        try await send(["end": end])
                        try await writeEnvelope(flags: 0x02, [:])
                        try await writer.end()
                        break loop
                    case .keepalive:
                        try await send(["keepalive": [String: Any]()])
                    case .eventsEnded:
                        break loop
                    }
                }
            } catch {}
            continuation.finish()
            group.cancelAll()
        }
    }

    private func writeEnvelope(flags: UInt8, _ object: [String: Any]) async throws {
        let payload = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        var bytes = Data([flags])
        let length = UInt32(payload.count)
        bytes.append(contentsOf: [UInt8(length >> 24 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)])
        bytes.append(payload)
        guard splitsEnvelopes, bytes.count > 6 else {
            try await writer.write(bytes)
            return
        }
        let middle = 5 + payload.count / 2
        try await writer.write(bytes[0..<2])
        try await writer.write(bytes[2..<middle])
        try await writer.write(bytes[middle...])
    }
}

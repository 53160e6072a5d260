import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Writes the response to one ``HTTPRequest`` of a ``LoopbackHTTPServer``.
///
/// Every call writes through the connection's event loop and returns only once the bytes
/// have been handed to the socket, so a slow client slows the handler down (backpressure).
/// Call the methods from one task at a time, in the order head, body pieces, end.
///
/// If the handler returns without finishing, the server completes the response for it:
/// a handler that wrote nothing gets an empty `500`, one that wrote a head gets its `end()`.
public struct HTTPResponseWriter: Sendable {
    /// Misuse of a writer, or a write after the response was finished or aborted.
    public enum WriterError: Error, Equatable, Sendable {
        /// ``HTTPResponseWriter/writeHead(status:headers:)`` was called twice.
        case headAlreadySent
        /// A body piece or the end was written before the head.
        case headNotSent
        /// The response was already ended.
        case responseEnded
        /// The connection was aborted with ``HTTPResponseWriter/abort()``.
        case aborted
    }

    private let channel: any Channel
    private let state: ResponseState
    private let isHeadRequest: Bool
    private let clientKeepAlive: Bool
    private let version: HTTPVersion

    init(channel: any Channel, requestHead: HTTPRequestHead) {
        self.channel = channel
        self.state = ResponseState()
        self.isHeadRequest = requestHead.method == .HEAD
        self.clientKeepAlive = requestHead.isKeepAlive
        self.version = requestHead.version
    }

    /// Sends the status line and headers. Without a Content-Length header the body is sent chunked.
    ///
    /// The head is flushed at once, so a client sees the headers before the first body piece.
    public func writeHead(status: Int, headers: [(String, String)]) async throws {
        try state.beginHead()
        var fields = HTTPHeaders()
        for (name, value) in headers {
            fields.add(name: name, value: value)
        }
        var closeAfter = !clientKeepAlive
        if fields[canonicalForm: "connection"].contains(where: { $0.lowercased() == "close" }) {
            closeAfter = true
        }
        if closeAfter, !fields.contains(name: "connection") {
            fields.add(name: "connection", value: "close")
        } else if !closeAfter, version == .http1_0, !fields.contains(name: "connection") {
            fields.add(name: "connection", value: "keep-alive")
        }
        state.setCloseAfterResponse(closeAfter)
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: fields)
        try await send(.head(head))
    }

    /// Sends one body piece and flushes it at once, as its own HTTP chunk when the body is chunked.
    ///
    /// Empty pieces are skipped (an empty chunk would end a chunked body), and so is any body
    /// in the response to a `HEAD` request.
    public func write(_ data: Data) async throws {
        try state.checkWritable()
        guard !data.isEmpty, !isHeadRequest else { return }
        try await send(.body(.byteBuffer(ByteBuffer(bytes: data))))
    }

    /// Finishes the response (the terminating chunk, when chunked).
    public func end() async throws {
        try state.beginEnd()
        try await send(.end(nil))
    }

    /// Closes the connection abruptly mid-response, to simulate a dropped stream.
    ///
    /// The client sees the connection close without the end of the body.
    public func abort() async {
        state.markAborted()
        try? await channel.close()
    }

    /// Sends a complete response: head with Content-Length, the whole body, and the end.
    public func respond(status: Int, headers: [(String, String)] = [], body: Data = Data()) async throws {
        var fields = headers
        if !fields.contains(where: { $0.0.lowercased() == "content-length" }) {
            fields.append(("content-length", String(body.count)))
        }
        try await writeHead(status: status, headers: fields)
        try await write(body)
        try await end()
    }

    /// Sends `object` serialized with `JSONSerialization` and content-type `application/json`.
    ///
    /// `object` must be a valid JSON object graph (dictionaries, arrays, strings, numbers, `NSNull`).
    public func respondJSON(status: Int, _ object: Any, headers: [(String, String)] = []) async throws {
        let body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
        try await respond(status: status, headers: [("content-type", "application/json")] + headers, body: body)
    }

    /// Sends `value` encoded with `encoder` and content-type `application/json`.
    public func respondJSON<Value: Encodable>(
        status: Int,
        encoding value: Value,
        encoder: JSONEncoder = JSONEncoder(),
        headers: [(String, String)] = []
    ) async throws {
        let body = try encoder.encode(value)
        try await respond(status: status, headers: [("content-type", "application/json")] + headers, body: body)
    }

    // MARK: - Used by the server

    /// Completes an unfinished response after the handler returned.
    ///
    /// - Returns: whether the connection may serve another request.
    func finish() async -> Bool {
        switch state.phase {
        case .idle:
            do {
                try await respond(status: 500, headers: [("content-type", "text/plain")], body: Data("handler sent no response\n".utf8))
            } catch {
                return false
            }
        case .headSent:
            do {
                try await end()
            } catch {
                return false
            }
        case .ended:
            break
        case .aborted:
            return false
        }
        return !state.closeAfterResponse && channel.isActive
    }

    private func send(_ part: HTTPServerResponsePart) async throws {
        do {
            try await channel.writeAndFlush(part)
        } catch {
            if state.phase == .aborted { throw WriterError.aborted }
            throw error
        }
    }
}

/// The progress of one response, shared by all copies of its writer.
private final class ResponseState: Sendable {
    enum Phase: Equatable, Sendable {
        case idle
        case headSent
        case ended
        case aborted
    }

    private struct Storage {
        var phase: Phase = .idle
        var closeAfterResponse = false
    }

    private let storage = Mutex(Storage())

    var phase: Phase { storage.withLock { $0.phase } }
    var closeAfterResponse: Bool { storage.withLock { $0.closeAfterResponse } }

    func setCloseAfterResponse(_ value: Bool) {
        storage.withLock { $0.closeAfterResponse = value }
    }

    func beginHead() throws(HTTPResponseWriter.WriterError) {
        try storage.withLock { (storage: inout Storage) throws(HTTPResponseWriter.WriterError) in
            switch storage.phase {
            case .idle: storage.phase = .headSent
            case .headSent: throw .headAlreadySent
            case .ended: throw .responseEnded
            case .aborted: throw .aborted
            }
        }
    }

    func checkWritable() throws(HTTPResponseWriter.WriterError) {
        switch phase {
        case .headSent: return
        case .idle: throw .headNotSent
        case .ended: throw .responseEnded
        case .aborted: throw .aborted
        }
    }

    func beginEnd() throws(HTTPResponseWriter.WriterError) {
        try storage.withLock { (storage: inout Storage) throws(HTTPResponseWriter.WriterError) in
            switch storage.phase {
            case .headSent: storage.phase = .ended
            case .idle: throw .headNotSent
            case .ended: throw .responseEnded
            case .aborted: throw .aborted
            }
        }
    }

    func markAborted() {
        storage.withLock { $0.phase = .aborted }
    }
}

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP/1.1 server on SwiftNIO for tests, bound to `127.0.0.1` on an ephemeral port.
///
/// Each request is handed, with its body fully read, to the async handler. Connections are
/// kept alive when the client asks for it; the requests of one connection are handled in
/// order, while other connections are served concurrently, so one handler may stream slowly
/// (for example a long server-sent-events response) without holding up the rest.
///
/// ```swift
/// let server = LoopbackHTTPServer { request, writer in
///     try? await writer.respond(status: 200, body: Data("hi".utf8))
/// }
/// try await server.start()
/// defer { Task { try? await server.stop() } }
/// ```
///
/// Call ``stop()`` when done: it closes the listener and every open connection, and cancels
/// the handlers still running.
public final class LoopbackHTTPServer: Sendable {
    /// The function that answers one request.
    public typealias Handler = @Sendable (HTTPRequest, HTTPResponseWriter) async -> Void

    /// Errors of the server's life cycle.
    public enum ServerError: Error, Equatable, Sendable {
        /// ``LoopbackHTTPServer/start()`` was called on a server that was already started.
        case alreadyStarted
        /// The bound socket did not report a port.
        case noPort
    }

    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    private typealias Listener = NIOAsyncChannel<Connection, Never>

    private enum Phase {
        case idle
        case running
        case stopped
    }

    private struct State {
        var phase: Phase = .idle
        var port: Int?
        var group: MultiThreadedEventLoopGroup?
        var listener: (any Channel)?
        var acceptTask: Task<Void, Never>?
        var connections: [Int: any Channel] = [:]
        var nextConnectionID = 0
    }

    private let handler: Handler
    private let requestedPort: Int
    private let maxBodyBytes: Int?
    private let state = Mutex(State())

    /// Creates a server that answers every request with `handler`, on `port` (0, the default,
    /// picks an ephemeral one). A request body longer than `maxBodyBytes` (no limit by default)
    /// is answered `413` without calling the handler, and its connection is closed.
    /// Nothing is bound until ``start()``.
    public init(port: Int = 0, maxBodyBytes: Int? = nil, handler: @escaping @Sendable (HTTPRequest, HTTPResponseWriter) async -> Void) {
        self.requestedPort = port
        self.maxBodyBytes = maxBodyBytes
        self.handler = handler
    }

    /// Binds `127.0.0.1` on an ephemeral port and starts accepting connections.
    public func start() async throws {
        try state.withLock { state in
            guard state.phase == .idle else { throw ServerError.alreadyStarted }
            state.phase = .running
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener: Listener
        do {
            listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 128)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: "127.0.0.1", port: requestedPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            state.withLock { $0.phase = .idle }
            try? await group.shutdownGracefully()
            throw error
        }
        guard let port = listener.channel.localAddress?.port else {
            try? await listener.channel.close()
            try? await group.shutdownGracefully()
            state.withLock { $0.phase = .idle }
            throw ServerError.noPort
        }
        let acceptTask = Task { await self.acceptLoop(listener) }
        state.withLock { state in
            state.port = port
            state.group = group
            state.listener = listener.channel
            state.acceptTask = acceptTask
        }
    }

    /// The bound port; valid after ``start()`` returned (0 before).
    public var port: Int {
        state.withLock { $0.port ?? 0 }
    }

    /// `http://127.0.0.1:<port>`; valid after ``start()`` returned.
    public var baseURL: URL {
        URL(string: "http://127.0.0.1:\(port)")!
    }

    /// Closes the listener and all open connections, cancels running handlers, and waits for
    /// them to finish. Calling it again, or on a server never started, does nothing.
    public func stop() async throws {
        let (listener, connections, acceptTask, group) = state.withLock { state in
            let snapshot = (state.listener, Array(state.connections.values), state.acceptTask, state.group)
            state.phase = .stopped
            state.listener = nil
            state.acceptTask = nil
            state.group = nil
            return snapshot
        }
        try? await listener?.close()
        for connection in connections {
            try? await connection.close()
        }
        acceptTask?.cancel()
        await acceptTask?.value
        try await group?.shutdownGracefully()
    }

    // MARK: - Serving

    private func acceptLoop(_ listener: Listener) async {
        await withDiscardingTaskGroup { group in
            do {
                try await listener.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            } catch {
                // The listener was closed (stop) or failed; the open connections are closed by stop().
            }
        }
    }

    private func serve(_ connection: Connection) async {
        let channel = connection.channel
        guard let id = register(channel) else {
            try? await channel.close()
            return
        }
        defer { unregister(id) }
        do {
            try await connection.executeThenClose { inbound, _ in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body.clear()
                    case .body(var piece):
                        if let limit = self.maxBodyBytes, body.readableBytes + piece.readableBytes > limit, let requestHead = head {
                            let writer = HTTPResponseWriter(channel: channel, requestHead: requestHead)
                            try? await writer.respond(status: 413, headers: [("content-type", "text/plain"), ("connection", "close")],
                                                      body: Data("request body over \(limit) bytes\n".utf8))
                            return
                        }
                        body.writeBuffer(&piece)
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        let request = Self.makeRequest(requestHead, body: body)
                        body.clear()
                        let keepGoing = await self.answer(request, head: requestHead, channel: channel)
                        if !keepGoing { return }
                    }
                }
            }
        } catch {
            // Connection reset, protocol error or stop(): nothing more to do for this connection.
        }
    }

    /// Runs the handler for one request and completes its response.
    /// - Returns: whether the connection may serve another request.
    private func answer(_ request: HTTPRequest, head: HTTPRequestHead, channel: any Channel) async -> Bool {
        let writer = HTTPResponseWriter(channel: channel, requestHead: head)
        let handler = self.handler
        let handlerTask = Task { await handler(request, writer) }
        // A handler that waits (a hanging fake turn) is cancelled when its client goes away.
        channel.closeFuture.whenComplete { _ in handlerTask.cancel() }
        await withTaskCancellationHandler {
            await handlerTask.value
        } onCancel: {
            handlerTask.cancel()
        }
        return await writer.finish()
    }

    private static func makeRequest(_ head: HTTPRequestHead, body: ByteBuffer) -> HTTPRequest {
        HTTPRequest(
            method: head.method.rawValue,
            uri: head.uri,
            headers: head.headers.map { (name: $0.name, value: $0.value) },
            body: Data(body.readableBytesView)
        )
    }

    private func register(_ channel: any Channel) -> Int? {
        state.withLock { state in
            guard state.phase == .running else { return nil }
            let id = state.nextConnectionID
            state.nextConnectionID += 1
            state.connections[id] = channel
            return id
        }
    }

    private func unregister(_ id: Int) {
        _ = state.withLock { $0.connections.removeValue(forKey: id) }
    }
}

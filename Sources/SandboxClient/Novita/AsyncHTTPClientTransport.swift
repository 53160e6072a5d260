import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ``NovitaHTTPTransport`` on AsyncHTTPClient, HTTP/1.1 only (as the reference SDK uses).
///
/// Create it with ``init(connectTimeout:idleReadTimeout:maximumConnectionsPerHost:)`` to own a client (call ``shutdown()`` when
/// done; it is also shut down without waiting when the transport is released), or with
/// ``init(client:)`` to borrow one whose life the caller manages.
public final class AsyncHTTPClientTransport: NovitaHTTPTransport {
    private let client: HTTPClient
    private let ownsClient: Bool

    /// Creates a transport with its own HTTP client.
    ///
    /// - Parameters:
    ///   - connectTimeout: Time limit of a TCP/TLS connection attempt.
    ///   - idleReadTimeout: Longest silence tolerated while reading a response. Process streams get a
    ///     keepalive event every 50 s, so the default of 120 s only trips on a dead connection.
    ///   - maximumConnectionsPerHost: Concurrent connections to one host (each process stream holds one).
    public init(connectTimeout: Duration = .seconds(20), idleReadTimeout: Duration = .seconds(120), maximumConnectionsPerHost: Int = 256) {
        self.client = Self.makeClient(connectTimeout: connectTimeout, idleReadTimeout: idleReadTimeout, maximumConnectionsPerHost: maximumConnectionsPerHost)
        self.ownsClient = true
    }

    /// An HTTP client configured as the Novita/E2B wire needs it (HTTP/1.1, no decompression, no
    /// redirects, many connections per host), for a process to share between its backends and
    /// shut down when it ends.
    public static func makeClient(connectTimeout: Duration = .seconds(20), idleReadTimeout: Duration = .seconds(120),
                                  maximumConnectionsPerHost: Int = 256) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.httpVersion = .http1Only
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        // Every running process holds a connection for its output stream; the default of 8 per host
        // would make a ninth stream (or a stdin write) wait. The reference SDK allows 2000.
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: maximumConnectionsPerHost
        )
        configuration.timeout = HTTPClient.Configuration.Timeout(
            connect: Self.timeAmount(connectTimeout),
            read: Self.timeAmount(idleReadTimeout)
        )
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Uses a client owned by the caller, who must shut it down. Configure it with `httpVersion: .http1Only`.
    public init(client: HTTPClient) {
        self.client = client
        self.ownsClient = false
    }

    deinit {
        if ownsClient {
            // Non-blocking; a client that was already shut down reports an error we ignore.
            client.shutdown { _ in }
        }
    }

    public func shutdown() async {
        guard ownsClient else { return }
        try? await client.shutdown()
    }

    public func send(_ request: NovitaHTTPRequest) async throws(NovitaTransportError) -> NovitaHTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers {
            outgoing.headers.add(name: header.name, value: header.value)
        }
        if let body = request.body {
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        } else if request.method != "GET" && request.method != "HEAD" && request.method != "DELETE" {
            outgoing.body = .bytes(ByteBuffer())
        }
        let deadline: NIODeadline = request.timeout.map { .now() + Self.timeAmount($0) } ?? .distantFuture
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, deadline: deadline)
        } catch {
            throw Self.classify(error)
        }
        let body = response.body
        return NovitaHTTPResponse(
            status: Int(response.status.code),
            headers: response.headers.map { (name: $0.name, value: $0.value) },
            body: NovitaHTTPBody {
                var iterator = body.makeAsyncIterator()
                return NovitaHTTPBody.AsyncIterator {
                    do {
                        guard let buffer = try await iterator.next() else { return nil }
                        return Data(buffer.readableBytesView)
                    } catch {
                        throw Self.classify(error)
                    }
                }
            }
        )
    }

    /// Sorts an error of AsyncHTTPClient or NIO into a ``NovitaTransportError``.
    static func classify(_ error: any Error) -> NovitaTransportError {
        if let error = error as? NovitaTransportError { return error }
        if error is CancellationError { return NovitaTransportError(.cancelled, "request cancelled") }
        if let error = error as? HTTPClientError {
            switch error {
            case .remoteConnectionClosed:
                return NovitaTransportError(.connectionReset, "remote closed the connection")
            case .readTimeout, .deadlineExceeded, .connectTimeout:
                return NovitaTransportError(.timedOut, String(describing: error))
            case .cancelled:
                return NovitaTransportError(.cancelled, "request cancelled")
            default:
                return NovitaTransportError(.other, String(describing: error))
            }
        }
        if let error = error as? HTTPParserError {
            switch error {
            case .invalidEOFState, .closedConnection:
                return NovitaTransportError(.connectionReset, "connection closed mid-response (\(error))")
            default:
                return NovitaTransportError(.other, "malformed HTTP response (\(error))")
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .ioOnClosedChannel, .eof, .outputClosed, .inputClosed, .alreadyClosed:
                return NovitaTransportError(.connectionReset, "connection closed (\(error))")
            default:
                return NovitaTransportError(.other, String(describing: error))
            }
        }
        if let error = error as? IOError {
            if error.errnoCode == ECONNRESET || error.errnoCode == EPIPE {
                return NovitaTransportError(.connectionReset, String(describing: error))
            }
            return NovitaTransportError(.other, String(describing: error))
        }
        return NovitaTransportError(.other, String(describing: error))
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

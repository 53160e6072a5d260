import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One connection from a sandbox to the gateway: reads its first HTTP request and then
/// - `CONNECT host:port`: checks the policy, connects, answers `200` and joins the two
///   connections (TLS goes through untouched);
/// - a plain request to `http://host[:port]/…`: checks the policy, connects, sends the request
///   in origin form with `Connection: close`, and joins the connections for the response;
/// - `/<service>/…`: forwards the request to the service's upstream with its credentials (see
///   ``GatewayService``) and streams the response back.
///
/// Denied requests get `403` with a one-line reason and are reported through
/// ``SandboxNetwork/onEvent``.
final class GatewayConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Largest request body forwarded (a long conversation with the model is a few MB).
    static let maximumBodySize = 64 << 20
    /// The address the bridge serves inside the sandbox (requests addressed to it are service requests).
    static let bridgeHosts: Set<String> = ["127.0.0.1", "localhost"]

    private enum State {
        case idle
        /// A service request: collecting its body.
        case service(GatewayService, HTTPRequestHead, path: String, body: ByteBuffer)
        /// A plain HTTP request: collecting its body before connecting.
        case plain(host: String, port: Int, HTTPRequestHead, path: String, body: ByteBuffer)
        /// Waiting for `.end` of a `CONNECT` request.
        case connectRequested(host: String, port: Int)
        /// Connecting upstream; bytes the client sent meanwhile.
        case connecting(pending: [NIOAny])
        /// Answered, or handed over to the glue.
        case finished
    }

    private let network: SandboxNetwork
    private let client: HTTPClient
    private let bridgePort: Int
    private var state = State.idle

    init(network: SandboxNetwork, client: HTTPClient, bridgePort: Int) {
        self.network = network
        self.client = client
        self.bridgePort = bridgePort
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .connecting(var pending):
            // Raw bytes after the decoder was removed (the start of TLS, say).
            pending.append(data)
            state = .connecting(pending: pending)
            return
        case .finished:
            return
        default:
            break
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            begin(context: context, head: head)
        case .body(var chunk):
            switch state {
            case .service(let service, let head, let path, var body):
                guard body.readableBytes + chunk.readableBytes <= Self.maximumBodySize else {
                    return respond(context: context, status: .payloadTooLarge, message: "request body over \(Self.maximumBodySize >> 20) MiB")
                }
                body.writeBuffer(&chunk)
                state = .service(service, head, path: path, body: body)
            case .plain(let host, let port, let head, let path, var body):
                guard body.readableBytes + chunk.readableBytes <= Self.maximumBodySize else {
                    return respond(context: context, status: .payloadTooLarge, message: "request body over \(Self.maximumBodySize >> 20) MiB")
                }
                body.writeBuffer(&chunk)
                state = .plain(host: host, port: port, head, path: path, body: body)
            default:
                break
            }
        case .end:
            switch state {
            case .service(let service, let head, let path, let body):
                state = .finished
                forward(context: context, service: service, head: head, path: path, body: body)
            case .plain(let host, let port, let head, let path, let body):
                var request = context.channel.allocator.buffer(capacity: 512 + body.readableBytes)
                request.writeString(Self.originFormHead(head, path: path, host: host, port: port))
                var body = body
                request.writeBuffer(&body)
                connect(context: context, host: host, port: port, answer: false, initial: request)
            case .connectRequested(let host, let port):
                connect(context: context, host: host, port: port, answer: true, initial: nil)
            default:
                break
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .idle = state {
            // Not HTTP at all.
            state = .finished
        }
        context.close(promise: nil)
    }

    // MARK: Requests

    private func begin(context: ChannelHandlerContext, head: HTTPRequestHead) {
        if head.method == .CONNECT {
            guard let (host, port) = Self.authority(head.uri, defaultPort: nil) else {
                return respond(context: context, status: .badRequest, message: "CONNECT needs host:port")
            }
            guard decide(method: "CONNECT", host: host, port: port) else {
                return respond(context: context, status: .forbidden, message: denial(host: host, port: port))
            }
            state = .connectRequested(host: host, port: port)
            return
        }
        if head.uri.lowercased().hasPrefix("http://") {
            let rest = head.uri.dropFirst("http://".count)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let path = rest[slash...].isEmpty ? "/" : String(rest[slash...])
            guard let (host, port) = Self.authority(String(rest[..<slash]), defaultPort: 80) else {
                return respond(context: context, status: .badRequest, message: "malformed URL")
            }
            // A request sent through the proxy to the bridge itself is a service request.
            if Self.bridgeHosts.contains(host), port == bridgePort {
                return beginService(context: context, head: head, path: path)
            }
            guard decide(method: head.method.rawValue, host: host, port: port) else {
                return respond(context: context, status: .forbidden, message: denial(host: host, port: port))
            }
            state = .plain(host: host, port: port, head, path: path, body: context.channel.allocator.buffer(capacity: 0))
            return
        }
        if head.uri.hasPrefix("/") {
            return beginService(context: context, head: head, path: head.uri)
        }
        respond(context: context, status: .badRequest, message: "unsupported request target")
    }

    private func beginService(context: ChannelHandlerContext, head: HTTPRequestHead, path: String) {
        let name = path.dropFirst().prefix { $0 != "/" && $0 != "?" }
        guard let service = network.services.first(where: { $0.name == name }) else {
            return respond(context: context, status: .notFound, message: "no service at /\(name); other destinations go through the proxy")
        }
        let rest = String(path.dropFirst(1 + name.count))
        state = .service(service, head, path: rest, body: context.channel.allocator.buffer(capacity: 0))
    }

    /// Applies the policy and reports the decision.
    private func decide(method: String, host: String, port: Int) -> Bool {
        let allowed = network.allows(host: host, port: port)
        network.onEvent?(SandboxNetworkEvent(decision: allowed ? .allowed : .denied, method: method, host: host, port: port,
                                             reason: allowed ? nil : policyName))
        return allowed
    }

    private var policyName: String {
        switch network.access {
        case .none: return "network access is off"
        case .allowlist: return "not on the allowlist"
        case .open: return "open"
        }
    }

    private func denial(host: String, port: Int) -> String {
        "ca gateway: \(host):\(port) refused (\(policyName)); allow it with --allow-host \(host):\(port) or --network open"
    }

    // MARK: Tunnels

    /// Connects upstream and joins the connections; answers `200` first for `CONNECT`.
    private func connect(context: ChannelHandlerContext, host: String, port: Int, answer: Bool, initial: ByteBuffer?) {
        state = .connecting(pending: [])
        // From here on the client's bytes are not HTTP: take the decoder out (bytes it holds
        // come to this handler as raw buffers) and stop reading until joined.
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        context.pipeline.syncOperations.removeHandler(name: GatewayPipeline.decoderName, promise: nil)
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        ClientBootstrap(group: context.eventLoop)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .connectTimeout(.seconds(15))
            .connect(host: host, port: port)
            .whenComplete { result in
                let context = loopBoundContext.value
                let handler = loopBoundSelf.value
                switch result {
                case .success(let upstream):
                    handler.join(context: context, upstream: upstream, answer: answer, initial: initial)
                case .failure(let error):
                    handler.respond(context: context, status: .badGateway, message: "ca gateway: cannot reach \(host):\(port): \(error)")
                }
            }
    }

    private func join(context: ChannelHandlerContext, upstream: any Channel, answer: Bool, initial: ByteBuffer?) {
        guard case .connecting(let pending) = state else {
            upstream.close(promise: nil)
            return
        }
        state = .finished
        if answer {
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .custom(code: 200, reasonPhrase: "Connection established"), headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        if let initial {
            upstream.writeAndFlush(initial, promise: nil)
        }
        let (local, remote) = GatewayGlueHandler.matchedPair()
        context.pipeline.syncOperations.removeHandler(name: GatewayPipeline.encoderName, promise: nil)
        do {
            try context.pipeline.syncOperations.addHandler(local)
            try upstream.pipeline.syncOperations.addHandler(remote)
        } catch {
            context.close(promise: nil)
            upstream.close(promise: nil)
            return
        }
        // Bytes that arrived while connecting go to the glue (next in the pipeline) and on upstream.
        for data in pending {
            context.fireChannelRead(data)
        }
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
    }

    // MARK: Services

    /// Forwards a service request with the service's credentials and streams the response back.
    private func forward(context: ChannelHandlerContext, service: GatewayService, head: HTTPRequestHead, path: String, body: ByteBuffer) {
        if let refusal = service.meter?.admit(head.method.rawValue, path) {
            refuse(context: context, refusal)
            return
        }
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        var request = Self.upstreamRequest(service: service, head: head, path: path, body: body)
        // A metered service's answers are read on the way through: they must come uncompressed.
        if service.meter != nil { request.headers.replaceOrAdd(name: "accept-encoding", value: "identity") }
        Self.startForwarding(request, observer: service.meter?.observeResponse(), client: client, channel: context.channel)
    }

    /// Answers a request the service's meter refused, without going upstream.
    private func refuse(context: ChannelHandlerContext, _ refusal: GatewayServiceMeter.Refusal) {
        state = .finished
        var headers = HTTPHeaders()
        for (name, value) in refusal.headers { headers.add(name: name, value: value) }
        headers.replaceOrAdd(name: "content-length", value: String(refusal.body.count))
        headers.replaceOrAdd(name: "connection", value: "close")
        let channel = context.channel
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: refusal.status), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: refusal.body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// The request to the service's upstream: the sandbox's headers without hop-by-hop ones and
    /// without any credentials, then the service's own headers.
    static func upstreamRequest(service: GatewayService, head: HTTPRequestHead, path: String, body: ByteBuffer) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: join(service.upstream, path))
        request.method = head.method
        for (name, value) in head.headers where !droppedRequestHeaders.contains(name.lowercased()) {
            request.headers.add(name: name, value: value)
        }
        for (name, value) in service.headers {
            request.headers.replaceOrAdd(name: name, value: value)
        }
        if body.readableBytes > 0 || head.method == .POST || head.method == .PUT || head.method == .PATCH {
            request.body = .bytes(body)
        }
        return request
    }

    /// Streams the upstream response to the channel; the work ends (and is cancelled) with the channel.
    private static func startForwarding(_ request: sending HTTPClientRequest, observer: (@Sendable (Data?) -> Void)?, client: HTTPClient, channel: any Channel) {
        let task = Task {
            await stream(request, observer: observer, with: client, to: channel)
        }
        channel.closeFuture.whenComplete { _ in task.cancel() }
    }

    private static func stream(_ request: HTTPClientRequest, observer: (@Sendable (Data?) -> Void)?, with client: HTTPClient, to channel: any Channel) async {
        defer { observer?(nil) }
        do {
            let response = try await client.execute(request, timeout: .hours(2))
            var headers = HTTPHeaders()
            for (name, value) in response.headers where !droppedResponseHeaders.contains(name.lowercased()) {
                headers.add(name: name, value: value)
            }
            headers.replaceOrAdd(name: "connection", value: "close")
            try await channel.writeAndFlush(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)))
            for try await chunk in response.body {
                if let observer { observer(Data(chunk.readableBytesView)) }
                try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(chunk)))
            }
            try await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        } catch {
            // Headers may have gone out already; then closing is all that is left to do.
            let message = #"{"type":"error","error":{"type":"api_error","message":"ca gateway: the upstream API failed: "# + jsonEscaped(String(describing: error)) + #""}}"#
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(message.utf8.count))
            headers.add(name: "connection", value: "close")
            try? await channel.writeAndFlush(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .badGateway, headers: headers)))
            try? await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: message))))
            try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        }
        try? await channel.close()
    }

    // MARK: Helpers

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, message: String) {
        state = .finished
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "content-length", value: String(message.utf8.count + 1))
        headers.add(name: "connection", value: "close")
        if (try? context.pipeline.syncOperations.handler(type: HTTPResponseEncoder.self)) == nil {
            // The encoder is gone (a tunnel that failed to connect): write the response raw.
            var raw = context.channel.allocator.buffer(capacity: 256)
            raw.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
            for (name, value) in headers { raw.writeString("\(name): \(value)\r\n") }
            raw.writeString("\r\n\(message)\n")
            let channel = context.channel
            context.writeAndFlush(NIOAny(raw)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        let channel = context.channel
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: message + "\n")))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    static let droppedRequestHeaders: Set<String> = [
        "host", "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer",
        "transfer-encoding", "upgrade", "content-length", "x-api-key", "authorization",
    ]
    static let droppedResponseHeaders: Set<String> = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate"]

    /// `host:port` (or `[v6]:port`); `nil` when malformed.
    static func authority(_ text: String, defaultPort: Int?) -> (String, Int)? {
        guard !text.isEmpty, text.count <= 300, !text.contains("@") else { return nil }
        var host = text
        var port = defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let value = Int(text[text.index(after: colon)...]) else { return nil }
            port = value
        }
        guard let port, (1...65_535).contains(port), !host.isEmpty,
              host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" || $0 == ":" }) else { return nil }
        return (host.lowercased(), port)
    }

    /// The request head in origin form for the upstream server, asking it to close afterwards.
    static func originFormHead(_ head: HTTPRequestHead, path: String, host: String, port: Int) -> String {
        var text = "\(head.method.rawValue) \(path) HTTP/1.1\r\n"
        let hostHeader = port == 80 ? host : "\(host):\(port)"
        text += "Host: \(hostHeader)\r\n"
        for (name, value) in head.headers {
            let lower = name.lowercased()
            if ["host", "connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "upgrade"].contains(lower) { continue }
            text += "\(name): \(value)\r\n"
        }
        text += "Connection: close\r\n\r\n"
        return text
    }

    /// `base` + `path` with exactly one `/` between them.
    static func join(_ base: URL, _ path: String) -> String {
        var prefix = base.absoluteString
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if path.isEmpty { return prefix }
        return path.hasPrefix("/") || path.hasPrefix("?") ? prefix + path : prefix + "/" + path
    }

    private static func jsonEscaped(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst(2).dropLast(2))
    }
}

/// Names of the gateway's pipeline handlers.
enum GatewayPipeline {
    static let decoderName = "ca-gateway-decoder"
    static let encoderName = "ca-gateway-encoder"
}

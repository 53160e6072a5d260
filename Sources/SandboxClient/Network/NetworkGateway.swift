import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// ca's side of a sandbox's network: an HTTP proxy and service gateway listening on a Unix
/// socket that is bound into the sandbox (see ``SandboxNetwork``).
///
/// It runs in the process that created the sandbox, on SwiftNIO's shared event loops, and owns
/// one `HTTPClient` for the services; ``shutdown()`` closes the socket, every open connection
/// and the client.
public final class NetworkGateway: Sendable {
    /// The socket's path on the host.
    public let socketPath: String
    private let server: any Channel
    private let client: HTTPClient
    private let ownsClient: Bool
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>

    private init(socketPath: String, server: any Channel, client: HTTPClient, ownsClient: Bool, connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>) {
        self.socketPath = socketPath
        self.server = server
        self.client = client
        self.ownsClient = ownsClient
        self.connections = connections
    }

    /// Starts listening at `socketPath` (created fresh; mode 0600, owned by `owner` when given).
    /// - Parameter bridgePort: the port the bridge serves inside the sandbox, so that requests
    ///   proxied to the bridge itself are recognised as service requests.
    /// - Parameter client: the HTTP client that forwards service requests, shared with the rest
    ///   of the process (its owner shuts it down); without one the gateway makes its own.
    public static func start(socketPath: String, network: SandboxNetwork, bridgePort: Int, owner: (uid: UInt32, gid: UInt32)? = nil,
                             client sharedClient: HTTPClient? = nil) async throws(SandboxError) -> NetworkGateway {
        let group = MultiThreadedEventLoopGroup.singleton
        var configuration = HTTPClient.Configuration()
        configuration.decompression = .disabled
        configuration.timeout.connect = .seconds(30)
        let client = sharedClient ?? HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
        let ownsClient = sharedClient == nil
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 64)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let id = ObjectIdentifier(channel)
                        connections.withLockedValue { $0[id] = channel }
                        channel.closeFuture.whenComplete { _ in _ = connections.withLockedValue { $0.removeValue(forKey: id) } }
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)), name: GatewayPipeline.decoderName)
                        try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder(), name: GatewayPipeline.encoderName)
                        try channel.pipeline.syncOperations.addHandler(GatewayConnectionHandler(network: network, client: client, bridgePort: bridgePort))
                    }
                }
                .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true)
                .get()
        } catch {
            if ownsClient { try? await client.shutdown() }
            throw .io("cannot listen on \(socketPath): \(error)")
        }
        if let owner {
            _ = chown(socketPath, owner.uid, owner.gid)
        }
        _ = chmod(socketPath, 0o600)
        return NetworkGateway(socketPath: socketPath, server: server, client: client, ownsClient: ownsClient, connections: connections)
    }

    /// Stops listening, closes every connection and shuts the HTTP client down. Idempotent.
    public func shutdown() async {
        try? await server.close()
        for channel in connections.withLockedValue({ Array($0.values) }) {
            try? await channel.close()
        }
        if ownsClient { try? await client.shutdown() }
        _ = unlink(socketPath)
        // A socket in its own private folder of /tmp (a sandbox folder with a long path) takes it along.
        let folder = (socketPath as NSString).deletingLastPathComponent
        if folder.hasPrefix("/tmp/ca-gateway-") { _ = rmdir(folder) }
    }
}

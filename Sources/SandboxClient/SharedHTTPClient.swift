import AsyncHTTPClient
import Foundation
import Synchronization

/// The one HTTP client of a process, shared by every backend (the Novita/E2B wire, the local
/// sandboxes' gateways), created on first use and shut down by whoever owns the process (the
/// CLI command, the server's service group).
public final class SharedHTTPClient: Sendable {
    private let state = Mutex<HTTPClient?>(nil)

    public init() {}

    deinit {
        // Owners should call shutdown(); a holder released without it (a short-lived service in
        // a test) still closes the client, without waiting.
        state.withLock { $0 }?.shutdown { _ in }
    }

    /// The client, created on first use.
    public var client: HTTPClient {
        state.withLock { state in
            if let client = state { return client }
            let client = AsyncHTTPClientTransport.makeClient()
            state = client
            return client
        }
    }

    /// A Novita/E2B transport over the shared client (which the transport does not shut down).
    public func novitaTransport() -> any NovitaHTTPTransport {
        AsyncHTTPClientTransport(client: client)
    }

    /// Shuts the client down, if it was ever created. Later uses get a new one.
    public func shutdown() async {
        let client = state.withLock { state -> HTTPClient? in
            defer { state = nil }
            return state
        }
        try? await client?.shutdown()
    }
}

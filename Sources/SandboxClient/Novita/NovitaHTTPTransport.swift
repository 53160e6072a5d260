import Foundation

/// Sends HTTP requests for the Novita backend.
///
/// The seam between the protocol logic and the HTTP library: ``AsyncHTTPClientTransport`` is the
/// production implementation; tests may substitute their own.
public protocol NovitaHTTPTransport: Sendable {
    /// Sends a request and returns as soon as the response head has arrived.
    ///
    /// The returned body streams; its iteration throws ``NovitaTransportError`` if the connection breaks.
    func send(_ request: NovitaHTTPRequest) async throws(NovitaTransportError) -> NovitaHTTPResponse

    /// Releases connections. Requests after this fail.
    func shutdown() async
}

extension NovitaHTTPTransport {
    public func shutdown() async {}
}

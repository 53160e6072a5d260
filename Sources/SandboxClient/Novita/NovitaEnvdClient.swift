import Foundation

/// Talks to envd, the daemon inside one sandbox: Connect RPCs with the JSON codec (reference §4) and
/// the plain-HTTP `/files` endpoint (reference §6).
struct NovitaEnvdClient: Sendable {
    let configuration: NovitaConfiguration
    /// `https://49983-<id>.<domain>` or the configured override.
    let baseURL: URL
    let sandboxID: String
    /// Sent as `X-Access-Token` on every request when the sandbox is secure.
    let accessToken: String?
    /// Whether to send the `Novita-Sandbox-Id`/`-Port` routing headers (sandboxes created by this process).
    let sendsRoutingHeaders: Bool
    let executor: NovitaRequestExecutor

    private static let encoder = JSONEncoder()

    // MARK: - Connect RPC

    /// A unary call: bare JSON request and response, errors as non-200 with a JSON body.
    ///
    /// - Returns: The decoded response, or the Connect error the server answered with.
    /// - Throws: ``SandboxError`` for transport failures and unreadable responses.
    func unary<Response: Decodable>(
        _ method: String,
        _ message: some Encodable & Sendable,
        as type: Response.Type,
        idempotent: Bool
    ) async throws(SandboxError) -> Result<Response, ConnectError> {
        var headers = commonHeaders()
        headers.append(("content-type", "application/json"))
        headers.append(("connect-protocol-version", "1"))
        headers.append(("content-encoding", "identity"))
        let request = NovitaHTTPRequest(method: "POST", url: try url(method), headers: headers, body: try encode(message), timeout: configuration.requestTimeout)
        let response = try await executor.perform(request, idempotent: idempotent, bodyLimit: 256 << 20)
        guard response.status == 200 else {
            return .failure(ConnectError(httpStatus: response.status, body: response.body))
        }
        do {
            return .success(try JSONDecoder().decode(type, from: response.body.isEmpty ? Data("{}".utf8) : response.body))
        } catch {
            throw SandboxError.server(status: 200, message: "unreadable \(method) response: \(error)")
        }
    }

    /// Opens a server-streaming call: one enveloped request message, a stream of enveloped responses.
    ///
    /// Errors the handler raises arrive inside the 200 stream and are returned by the reader; only a
    /// non-200 answer (proxy, authentication) is returned here as a failure.
    func openStream(
        _ method: String,
        _ message: some Encodable & Sendable,
        extraHeaders: [(name: String, value: String)] = []
    ) async throws(SandboxError) -> Result<ConnectStreamReader, ConnectError> {
        var headers = commonHeaders()
        headers.append(("content-type", "application/connect+json"))
        headers.append(("connect-protocol-version", "1"))
        headers.append(("connect-content-encoding", "identity"))
        headers += extraHeaders
        let body = ConnectEnvelope(payload: try encode(message)).encoded()
        let request = NovitaHTTPRequest(method: "POST", url: try url(method), headers: headers, body: body, timeout: nil)
        let response = try await executor.open(request)
        guard response.status == 200 else {
            let data: Data
            do {
                data = try await response.body.collect(limit: 1 << 20)
            } catch {
                throw executor.sandboxError(error, request: request)
            }
            return .failure(ConnectError(httpStatus: response.status, body: data))
        }
        return .success(ConnectStreamReader(body: response.body))
    }

    // MARK: - Files

    /// `GET /files?path=`: the whole file, refused (without reading on) past `maximumSize` bytes.
    func download(path: String, maximumSize: Int = .max) async throws(SandboxError) -> Data {
        let request = NovitaHTTPRequest(method: "GET", url: try filesURL(path: path), headers: commonHeaders(), timeout: configuration.requestTimeout)
        let response = try await executor.perform(request, idempotent: true, bodyLimit: min(maximumSize, 1 << 31))
        guard response.status == 200 else { throw filesError(response, path: path) }
        return response.body
    }

    /// `POST /files?path=` with one multipart part `name="file"; filename="<path>"`, as the SDK sends it.
    ///
    /// Repeated after 429/503 like a read: an upload replaces the whole file, so it is idempotent.
    func upload(path: String, contents: Data) async throws(SandboxError) {
        var form = NovitaMultipartForm()
        form.addFile(field: "file", filename: path, contents: contents)
        var headers = commonHeaders()
        headers.append(("Content-Type", form.contentType))
        let request = NovitaHTTPRequest(method: "POST", url: try filesURL(path: path), headers: headers, body: form.encoded(), timeout: configuration.requestTimeout)
        let response = try await executor.perform(request, idempotent: true, bodyLimit: 1 << 20)
        guard response.status == 200 || response.status == 201 else { throw filesError(response, path: path) }
    }

    // MARK: - Plumbing

    /// Identity, access-token and (for sandboxes created here) routing headers.
    func commonHeaders() -> [(name: String, value: String)] {
        var headers = configuration.identityHeaders.map { (name: $0.0, value: $0.1) }
        if let accessToken {
            headers.append(("X-Access-Token", accessToken))
        }
        if sendsRoutingHeaders {
            headers += configuration.routingHeaders(sandboxID: sandboxID)
        }
        return headers
    }

    private func url(_ method: String) throws(SandboxError) -> URL {
        guard let url = NovitaHTTPRequest.url(baseURL, appending: "/\(method)") else {
            throw SandboxError.configuration("cannot form the URL of \(method)")
        }
        return url
    }

    private func filesURL(path: String) throws(SandboxError) -> URL {
        let encoded = NovitaPercentEncoding.encode(path, allowing: NovitaPercentEncoding.unreservedAndSlash)
        guard let url = NovitaHTTPRequest.url(baseURL, appending: "/files?path=\(encoded)") else {
            throw SandboxError.invalidArgument("cannot form a URL for path \(path)")
        }
        return url
    }

    private func encode(_ message: some Encodable) throws(SandboxError) -> Data {
        do {
            return try Self.encoder.encode(message)
        } catch {
            throw SandboxError.invalidArgument("cannot encode request: \(error)")
        }
    }

    /// Maps an envd `/files` error (`{"code": int, "message"}`, reference §6).
    private func filesError(_ response: NovitaRequestExecutor.BufferedResponse, path: String) -> SandboxError {
        let message = ConnectError(httpStatus: response.status, body: response.body).message
        let detail = "\(path): \(message)"
        let error: SandboxError
        switch response.status {
        case 400: error = .invalidArgument(detail)
        case 401, 403: error = .unauthorized(detail)
        case 404: error = .fileNotFound(detail)
        case 429: error = .limitReached(detail)
        case 502: error = .sandboxNotFound("sandbox \(sandboxID) is not running: \(message)")
        case 507: error = .io("not enough disk space in the sandbox: \(detail)")
        default: error = .server(status: response.status, message: detail)
        }
        return executor.redact(error)
    }
}

extension NovitaEnvdClient: CustomStringConvertible, CustomReflectable {
    var description: String { "NovitaEnvdClient(sandboxID: \(sandboxID), baseURL: \(baseURL.absoluteString), accessToken: <redacted>)" }
    var customMirror: Mirror { Mirror(self, children: ["sandboxID": sandboxID, "baseURL": baseURL], displayStyle: .struct) }
}

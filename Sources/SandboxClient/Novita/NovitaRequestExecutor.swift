import Foundation

/// Sends requests through a ``NovitaHTTPTransport``, repeating safe ones per the ``NovitaRetryPolicy``,
/// and turns transport failures into ``SandboxError``s with every secret removed.
struct NovitaRequestExecutor: Sendable {
    /// A response whose body has been read completely.
    struct BufferedResponse: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: Data

        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    let transport: any NovitaHTTPTransport
    let retry: NovitaRetryPolicy
    /// Strings that must never appear in an error (API key, access tokens).
    let secrets: [String]

    /// The same executor, also hiding `secret`.
    func hiding(_ secret: String?) -> NovitaRequestExecutor {
        guard let secret, !secret.isEmpty else { return self }
        return NovitaRequestExecutor(transport: transport, retry: retry, secrets: secrets + [secret])
    }

    /// Sends a request and reads its whole body.
    ///
    /// - Parameters:
    ///   - idempotent: Whether the request may be repeated after 429/502/503/504 or a reset connection.
    ///   - bodyLimit: Largest accepted response body.
    /// - Returns: The final response, whatever its status.
    func perform(_ request: NovitaHTTPRequest, idempotent: Bool, bodyLimit: Int = 1 << 31) async throws(SandboxError) -> BufferedResponse {
        var attempt = 1
        while true {
            if Task.isCancelled { throw SandboxError.transport("cancelled") }
            let canRetry = idempotent && attempt < retry.maximumAttempts
            let wait: Duration
            do throws(NovitaTransportError) {
                let response = try await transport.send(request)
                if canRetry, NovitaRetryPolicy.retryableStatuses.contains(response.status) {
                    _ = try? await response.body.collect(limit: 1 << 20)
                    wait = retry.delay(afterAttempt: attempt, retryAfter: NovitaRetryPolicy.retryAfter(response.header("Retry-After")))
                } else {
                    let body = try await response.body.collect(limit: bodyLimit)
                    return BufferedResponse(status: response.status, headers: response.headers, body: body)
                }
            } catch {
                guard canRetry && error.kind == .connectionReset else {
                    throw sandboxError(error, request: request)
                }
                wait = retry.delay(afterAttempt: attempt, retryAfter: nil)
            }
            try await pause(wait)
            attempt += 1
        }
    }

    /// Sends a request and returns once the head has arrived, leaving the body to stream. Never repeated.
    func open(_ request: NovitaHTTPRequest) async throws(SandboxError) -> NovitaHTTPResponse {
        do {
            return try await transport.send(request)
        } catch {
            throw sandboxError(error, request: request)
        }
    }

    /// Sleeps between attempts; cancellation surfaces as a transport error.
    func pause(_ duration: Duration) async throws(SandboxError) {
        do {
            try await retry.sleep(duration)
        } catch {
            throw SandboxError.transport("cancelled")
        }
    }

    /// A ``SandboxError`` for a transport failure, naming the request but no secret.
    func sandboxError(_ error: NovitaTransportError, request: NovitaHTTPRequest) -> SandboxError {
        let target = "\(request.method) \(Self.describe(request.url))"
        switch error.kind {
        case .cancelled:
            return .transport("cancelled: \(target)")
        case .timedOut:
            return .transport(redact("timed out: \(target): \(error.message)"))
        case .connectionReset, .other:
            return .transport(redact("\(target): \(error.message)"))
        }
    }

    /// `scheme://host[:port]/path` of a URL, without the query (which may carry signatures).
    static func describe(_ url: URL) -> String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        components?.query = nil
        components?.user = nil
        components?.password = nil
        return components?.string ?? url.path
    }

    /// Replaces every secret in `text` with `<redacted>`.
    func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where !secret.isEmpty {
            result = result.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return result
    }

    /// Redacts the message inside an error.
    func redact(_ error: SandboxError) -> SandboxError {
        switch error {
        case .missingDependency: return error
        case .unauthorized(let m): return .unauthorized(redact(m))
        case .sandboxNotFound(let m): return .sandboxNotFound(redact(m))
        case .fileNotFound(let m): return .fileNotFound(redact(m))
        case .limitReached(let m): return .limitReached(redact(m))
        case .invalidArgument(let m): return .invalidArgument(redact(m))
        case .transport(let m): return .transport(redact(m))
        case .streamEnded(let m): return .streamEnded(redact(m))
        case .server(let status, let m): return .server(status: status, message: redact(m))
        case .configuration(let m): return .configuration(redact(m))
        case .io(let m): return .io(redact(m))
        }
    }
}

extension NovitaRequestExecutor: CustomStringConvertible, CustomReflectable {
    var description: String { "NovitaRequestExecutor(secrets: <\(secrets.count) redacted>)" }
    var customMirror: Mirror { Mirror(self, children: ["secrets": "<redacted>"], displayStyle: .struct) }
}

import Foundation

/// The REST control plane: create, look up, list, time out, connect, pause and kill sandboxes (reference §3).
struct NovitaAPIClient: Sendable {
    let configuration: NovitaConfiguration
    let executor: NovitaRequestExecutor

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// `POST /sandboxes`. Not repeated: a second attempt could create a second sandbox.
    func create(_ body: NovitaAPIModels.NewSandbox) async throws(SandboxError) -> NovitaAPIModels.Sandbox {
        let response = try await send("POST", "/sandboxes", json: body, idempotent: false)
        guard response.status == 201 || response.status == 200 else {
            throw error(response, subject: "creating a sandbox from template \(body.templateID)")
        }
        return try decode(NovitaAPIModels.Sandbox.self, response.body, what: "created sandbox")
    }

    /// `GET /sandboxes/{id}`.
    func detail(id: String) async throws(SandboxError) -> NovitaAPIModels.Sandbox {
        let response = try await send("GET", "/sandboxes/\(escape(id))", idempotent: true)
        guard response.status == 200 else { throw error(response, subject: id) }
        return try decode(NovitaAPIModels.Sandbox.self, response.body, what: "sandbox \(id)")
    }

    /// One page of `GET /v2/sandboxes`; the second value is the next page's token, `nil` on the last page.
    func listPage(metadata: [String: String], states: [String], limit: Int?, nextToken: String?) async throws(SandboxError) -> ([NovitaAPIModels.Sandbox], String?) {
        var query: [String] = []
        if !metadata.isEmpty { query.append("metadata=\(NovitaPercentEncoding.metadataQueryValue(metadata))") }
        if !states.isEmpty { query.append("state=\(NovitaPercentEncoding.encode(states.joined(separator: ",")))") }
        if let limit { query.append("limit=\(limit)") }
        if let nextToken { query.append("nextToken=\(NovitaPercentEncoding.encode(nextToken))") }
        let response = try await send("GET", "/v2/sandboxes", query: query.isEmpty ? nil : query.joined(separator: "&"), idempotent: true)
        guard response.status == 200 else { throw error(response, subject: "listing sandboxes") }
        let sandboxes = try decode([NovitaAPIModels.Sandbox].self, response.body, what: "sandbox list")
        let token = response.header("x-next-token").flatMap { $0.isEmpty ? nil : $0 }
        return (sandboxes, token)
    }

    /// `DELETE /sandboxes/{id}`; `false` when there was no such sandbox.
    func delete(id: String) async throws(SandboxError) -> Bool {
        let response = try await send("DELETE", "/sandboxes/\(escape(id))", idempotent: true)
        switch response.status {
        case 200...299: return true
        case 404: return false
        default: throw error(response, subject: id)
        }
    }

    /// `POST /sandboxes/{id}/timeout`: the sandbox expires `seconds` from now.
    func setTimeout(id: String, seconds: Int) async throws(SandboxError) {
        let response = try await send("POST", "/sandboxes/\(escape(id))/timeout", json: NovitaAPIModels.Lifetime(timeout: max(0, seconds)), idempotent: true)
        guard (200...299).contains(response.status) else { throw error(response, subject: id) }
    }

    /// `POST /sandboxes/{id}/connect`: extends a running sandbox's life or resumes a paused one.
    func connect(id: String, timeout: Int) async throws(SandboxError) -> NovitaAPIModels.Sandbox {
        let routing = configuration.routingHeaders(sandboxID: id)
        let response = try await send("POST", "/sandboxes/\(escape(id))/connect", json: NovitaAPIModels.Lifetime(timeout: max(0, timeout)), extraHeaders: routing, idempotent: true)
        guard response.status == 200 || response.status == 201 else { throw error(response, subject: id) }
        return try decode(NovitaAPIModels.Sandbox.self, response.body, what: "connected sandbox \(id)")
    }

    /// `POST /sandboxes/{id}/pause`; 409 (already paused) counts as success.
    func pause(id: String) async throws(SandboxError) {
        let response = try await send("POST", "/sandboxes/\(escape(id))/pause", idempotent: false)
        guard (200...299).contains(response.status) || response.status == 409 else { throw error(response, subject: id) }
    }

    // MARK: - Plumbing

    private func escape(_ component: String) -> String {
        NovitaPercentEncoding.encode(component)
    }

    private func send(
        _ method: String,
        _ path: String,
        query: String? = nil,
        json body: (some Encodable & Sendable)? = Optional<NovitaAPIModels.Lifetime>.none,
        extraHeaders: [(name: String, value: String)] = [],
        idempotent: Bool
    ) async throws(SandboxError) -> NovitaRequestExecutor.BufferedResponse {
        guard let url = NovitaHTTPRequest.url(configuration.apiURL, appending: path + (query.map { "?" + $0 } ?? "")) else {
            throw SandboxError.configuration("cannot form a URL for \(path)")
        }
        var headers: [(name: String, value: String)] = [("X-API-KEY", configuration.apiKey)]
        headers += configuration.identityHeaders.map { (name: $0.0, value: $0.1) }
        var data: Data?
        if let body {
            do {
                data = try Self.encoder.encode(body)
            } catch {
                throw SandboxError.invalidArgument("cannot encode request: \(error)")
            }
            headers.append(("Content-Type", "application/json"))
        }
        headers += extraHeaders
        let request = NovitaHTTPRequest(method: method, url: url, headers: headers, body: data, timeout: configuration.requestTimeout)
        return try await executor.perform(request, idempotent: idempotent, bodyLimit: 64 << 20)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws(SandboxError) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw executor.redact(SandboxError.server(status: 200, message: "unreadable \(what): \(error)"))
        }
    }

    /// Maps a REST error response (reference §3: `{"code","message"}`) to a ``SandboxError``.
    func error(_ response: NovitaRequestExecutor.BufferedResponse, subject: String) -> SandboxError {
        let decoded = try? JSONDecoder().decode(NovitaAPIModels.APIError.self, from: response.body)
        let text = String(decoding: response.body.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let message = decoded?.message ?? (text.isEmpty ? "HTTP \(response.status)" : text)
        let detail = "\(subject): \(message)"
        let lowered = message.lowercased()
        let error: SandboxError
        switch response.status {
        case 401:
            error = .unauthorized(detail)
        case 404:
            error = .sandboxNotFound(detail)
        case 429:
            error = .limitReached(detail)
        case 400...499 where lowered.contains("quota") || lowered.contains("concurrent") || lowered.contains("rate limit"):
            error = .limitReached(detail)
        default:
            error = .server(status: response.status, message: detail)
        }
        return executor.redact(error)
    }
}

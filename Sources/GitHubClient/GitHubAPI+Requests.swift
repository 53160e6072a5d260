import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One response as read by ``GitHubAPI``: status, headers (lower-cased names, first value wins) and the bounded body.
struct GitHubRawResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data
}

extension GitHubAPI {
    /// Statuses after which a `GET` is repeated.
    static let retryableStatuses: Set<Int> = [502, 503, 504]

    /// `GET path` decoded as `Value`.
    func get<Value: Decodable>(_ path: String, query: [(String, String)] = [], what: String) async throws(GitHubError) -> Value {
        let response = try await perform(method: "GET", url: url(path, query: query), body: nil, what: what)
        return try decode(Value.self, from: response, what: what)
    }

    /// A write (`POST`, `PATCH`) with a JSON body, its answer decoded as `Value`.
    func send<Value: Decodable, Body: Encodable>(_ method: String, _ path: String, body: Body, what: String) async throws(GitHubError) -> Value {
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            data = try encoder.encode(body)
        } catch {
            throw .invalidConfiguration("could not encode the request: \(error)")
        }
        let response = try await perform(method: method, url: url(path, query: []), body: data, what: what)
        return try decode(Value.self, from: response, what: what)
    }

    /// All pages of a list, up to `limit` items: `per_page=100`, then each `Link: rel="next"` as sent, only on the
    /// API's scheme, host and port.
    func list<Element: Decodable>(_ path: String, query: [(String, String)] = [], what: String, limit: Int) async throws(GitHubError) -> [Element] {
        guard limit > 0 else { return [] }
        var items: [Element] = []
        var next: String? = url(path, query: query + [("per_page", "100")])
        while let current = next, items.count < limit {
            let response = try await perform(method: "GET", url: current, body: nil, what: what)
            let page = try decode([Element].self, from: response, what: what)
            items.append(contentsOf: page.prefix(limit - items.count))
            next = nil
            guard !page.isEmpty, let link = response.headers["link"], let nextURL = GitHubLinkHeader.next(in: link) else { break }
            guard isOnAPIOrigin(nextURL) else {
                throw .invalidResponse("the next page of \(what) is on another host; it was not followed")
            }
            next = nextURL
        }
        return items
    }

    /// The absolute URL of an API path (appended to the API base, keeping e.g. `/api/v3`).
    func url(_ path: String, query: [(String, String)]) -> String {
        let base = configuration.apiBase + path
        return query.isEmpty ? base : base + "?" + GitHubPercentEncoding.query(query)
    }

    /// Whether `url` has the API base's scheme, host and port.
    func isOnAPIOrigin(_ url: String) -> Bool {
        GitHubConfiguration.sameOrigin(URLComponents(string: url), URLComponents(url: configuration.apiURL, resolvingAgainstBaseURL: false))
    }

    /// Sends a request, waiting out rate limits and repeating failed reads per ``retry``; returns a 2xx response.
    func perform(method: String, url: String, body: Data?, what: String) async throws(GitHubError) -> GitHubRawResponse {
        let isRead = method == "GET"
        var attempt = 0
        while true {
            attempt += 1
            let canRepeat = attempt < retry.maximumAttempts && !Task.isCancelled
            let response: GitHubRawResponse
            do {
                response = try await sendOnce(method: method, url: url, body: body)
            } catch {
                if case .transport = error, isRead, canRepeat {
                    try await pause(retry.backoff(afterAttempt: attempt))
                    continue
                }
                throw error
            }
            if (200..<300).contains(response.status) {
                return response
            }
            let outcome = GitHubResponseClassifier.classify(status: response.status, headers: response.headers, body: response.body,
                                                            what: what, secrets: configuration.secrets)
            switch outcome {
            case .rateLimited(let secondary, let resetsAt, let wait):
                guard canRepeat, wait <= retry.maximumWait else {
                    throw .rateLimited(resetsAt: resetsAt, secondary: secondary)
                }
                try await pause(wait)
            case .failure(let error):
                guard isRead, Self.retryableStatuses.contains(response.status), canRepeat else { throw error }
                try await pause(retry.backoff(afterAttempt: attempt))
            }
        }
    }

    private func pause(_ duration: Duration) async throws(GitHubError) {
        do {
            try await retry.sleep(duration)
        } catch {
            throw .transport("the request was cancelled")
        }
    }

    /// One attempt: sends the request and reads the bounded body.
    private func sendOnce(method: String, url: String, body: Data?) async throws(GitHubError) -> GitHubRawResponse {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "User-Agent", value: userAgent)
        request.headers.add(name: "Accept", value: "application/vnd.github+json")
        request.headers.add(name: "X-GitHub-Api-Version", value: Self.apiVersion)
        if let token = configuration.token {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let deadline = NIODeadline.now() + Self.timeAmount(timeout)
        do {
            let response = try await httpClient.execute(request, deadline: deadline)
            let status = Int(response.status.code)
            var headers: [String: String] = [:]
            for field in response.headers {
                let name = field.name.lowercased()
                if headers[name] == nil {
                    headers[name] = field.value
                } else if name == "link" {
                    headers[name]! += ", " + field.value
                }
            }
            let isSuccess = (200..<300).contains(status)
            let limit = isSuccess ? Self.maximumBodySize : Self.maximumErrorBodySize
            var data = Data()
            for try await chunk in response.body {
                if data.count + chunk.readableBytes > limit {
                    if isSuccess {
                        throw GitHubError.invalidResponse("the response is larger than \(limit / 1024 / 1024) MiB")
                    }
                    data.append(contentsOf: chunk.readableBytesView.prefix(limit - data.count))
                    break
                }
                data.append(contentsOf: chunk.readableBytesView)
            }
            return GitHubRawResponse(status: status, headers: headers, body: data)
        } catch let error as GitHubError {
            throw error
        } catch {
            throw transportError(error)
        }
    }

    /// A ``GitHubError/transport(_:)`` for an AsyncHTTPClient or NIO error, without secrets.
    private func transportError(_ error: any Error) -> GitHubError {
        if error is CancellationError {
            return .transport("the request was cancelled")
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout:
                return .transport("GitHub did not answer in time")
            case .cancelled:
                return .transport("the request was cancelled")
            case .remoteConnectionClosed:
                return .transport("the connection was closed before the answer was complete")
            default:
                break
            }
        }
        let text = GitHubText.sanitized(GitHubText.redacting(configuration.secrets, in: String(describing: error)))
        return .transport(text)
    }

    /// Decodes a JSON body, or throws ``GitHubError/invalidResponse(_:)`` saying what could not be read.
    func decode<Value: Decodable>(_ type: Value.Type, from response: GitHubRawResponse, what: String) throws(GitHubError) -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: response.body)
        } catch let error as DecodingError {
            throw .invalidResponse("could not read the answer about \(what) (\(Self.summary(of: error)))")
        } catch {
            throw .invalidResponse("could not read the answer about \(what)")
        }
    }

    private static func summary(of error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "the top level" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(key.stringValue) is missing at \(path(context))"
        case .valueNotFound(_, let context):
            return "a value is missing at \(path(context))"
        case .typeMismatch(_, let context):
            return "unexpected type at \(path(context))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "invalid value at \(path(context))"
        @unknown default:
            return "invalid JSON"
        }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

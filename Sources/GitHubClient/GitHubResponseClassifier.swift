import Foundation

/// Turns a GitHub error response into a ``GitHubError``, or into a rate limit to wait out.
enum GitHubResponseClassifier {
    /// What an unsuccessful response means.
    enum Outcome: Sendable, Equatable {
        /// A rate limit: the request was not processed and may be repeated after `wait`.
        case rateLimited(secondary: Bool, resetsAt: Date?, wait: Duration)
        /// A failure to report.
        case failure(GitHubError)
    }

    /// The longest wait assumed for a secondary limit without `Retry-After`.
    static let secondaryDefaultWait: Duration = .seconds(60)

    /// Classifies a non-2xx response.
    ///
    /// - Parameters:
    ///   - headers: Header fields keyed by lower-cased name (first value wins).
    ///   - what: What was asked for, for ``GitHubError/notFound(_:)`` (`"repository o/r"`).
    ///   - secrets: Strings to remove from any text taken from the body.
    static func classify(status: Int, headers: [String: String], body: Data, what: String, now: Date = Date(),
                         secrets: [String] = []) -> Outcome {
        let parsed = ErrorBody.parse(body)
        func clean(_ text: String) -> String {
            GitHubText.sanitized(GitHubText.redacting(secrets, in: text))
        }
        let message = clean(parsed?.message ?? (parsed == nil ? String(decoding: body.prefix(4096), as: UTF8.self) : ""))

        switch status {
        case 401:
            return .failure(.badCredentials(message.isEmpty ? "Bad credentials" : message))
        case 403, 429:
            if let limit = rateLimit(status: status, headers: headers, message: message, now: now) {
                return limit
            }
            return .failure(.forbidden(message.isEmpty ? "Forbidden" : message))
        case 404, 410:
            return .failure(.notFound(what))
        case 422:
            let details = (parsed?.errors ?? []).prefix(20).map { clean($0.text) }.filter { !$0.isEmpty }
            if let existing = ([message] + details).first(where: { $0.localizedCaseInsensitiveContains("pull request already exists") }) {
                return .failure(.pullRequestExists(existing))
            }
            return .failure(.validationFailed(message: message.isEmpty ? "Validation Failed" : message, details: Array(details)))
        case 300..<400:
            return .failure(.invalidResponse("GitHub answered with a redirect (HTTP \(status)); the resource may have been renamed or moved"))
        default:
            return .failure(.server(status: status, message: message))
        }
    }

    /// A rate-limit outcome for a 403 or 429, or `nil` when the 403 is an ordinary refusal.
    ///
    /// Primary: `x-ratelimit-remaining: 0` (or GitHub's "API rate limit exceeded" message); wait until
    /// `x-ratelimit-reset` + 1 s. Secondary: a message naming the secondary limit or abuse detection, a
    /// `Retry-After`, or any 429; wait `Retry-After` seconds, else 60 s. `Retry-After` wins when present.
    static func rateLimit(status: Int, headers: [String: String], message: String, now: Date) -> Outcome? {
        let lowered = message.lowercased()
        let remainingZero = headers["x-ratelimit-remaining"].flatMap { Double($0.trimmingWhitespace()) } == 0
        let primaryMessage = lowered.contains("api rate limit exceeded")
        let secondaryMessage = lowered.contains("secondary rate") || lowered.contains("abuse")
        let retryAfter = seconds(headers["retry-after"])
        guard remainingZero || primaryMessage || secondaryMessage || retryAfter != nil || status == 429 else { return nil }

        let secondary = !remainingZero && !(primaryMessage && !secondaryMessage)
        let reset = seconds(headers["x-ratelimit-reset"], maximum: 1e11).map { Date(timeIntervalSince1970: $0) }
        let wait: Duration
        if let retryAfter {
            wait = .milliseconds(Int64((retryAfter * 1000).rounded()))
        } else if !secondary, let reset {
            let interval = max(0, reset.timeIntervalSince(now) + 1)
            wait = .milliseconds(Int64((min(interval, 1e9) * 1000).rounded()))
        } else {
            wait = secondaryDefaultWait
        }
        let resetsAt: Date
        if !secondary, let reset, retryAfter == nil {
            resetsAt = reset
        } else {
            let (seconds, attoseconds) = wait.components
            resetsAt = now.addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
        }
        return .rateLimited(secondary: secondary, resetsAt: resetsAt, wait: wait)
    }

    /// A non-negative number of seconds from a header (integers expected, decimals tolerated), capped.
    static func seconds(_ header: String?, maximum: Double = 86_400 * 30) -> Double? {
        guard let text = header?.trimmingWhitespace(), !text.isEmpty, text.count <= 32,
              let value = Double(text), value.isFinite, value >= 0 else { return nil }
        return min(value, maximum)
    }

    /// GitHub's error body: `{"message", "errors"?, "documentation_url"?, "status"?}` where `errors` holds strings
    /// (`Unprocessable Entity`) or objects `{resource, field, code, message?}` (`Validation Failed`).
    struct ErrorBody: Decodable {
        enum Item: Decodable {
            case text(String)
            case object(resource: String?, field: String?, code: String?, message: String?)

            private enum Keys: String, CodingKey {
                case resource, field, code, message
            }

            init(from decoder: any Decoder) throws {
                if let text = try? decoder.singleValueContainer().decode(String.self) {
                    self = .text(text)
                    return
                }
                guard let container = try? decoder.container(keyedBy: Keys.self) else {
                    self = .text("")
                    return
                }
                func string(_ key: Keys) -> String? { (try? container.decodeIfPresent(String.self, forKey: key)) ?? nil }
                self = .object(resource: string(.resource), field: string(.field), code: string(.code), message: string(.message))
            }

            /// A readable line: the message, or `Resource.field: code`.
            var text: String {
                switch self {
                case .text(let text):
                    return text
                case .object(let resource, let field, let code, let message):
                    if let message, !message.isEmpty { return message }
                    let subject = [resource, field].compactMap { $0 }.joined(separator: ".")
                    switch (subject.isEmpty, code) {
                    case (false, let code?): return "\(subject): \(code)"
                    case (true, let code?): return code
                    case (false, nil): return subject
                    case (true, nil): return ""
                    }
                }
            }
        }

        var message: String?
        var errors: [Item]?

        private enum Keys: String, CodingKey {
            case message, errors
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            message = (try? container.decodeIfPresent(String.self, forKey: .message)) ?? nil
            errors = (try? container.decodeIfPresent([Item].self, forKey: .errors)) ?? nil
        }

        /// The body as GitHub's JSON error object, or `nil` when it is not one (text, HTML, empty).
        static func parse(_ data: Data) -> ErrorBody? {
            guard data.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) == UInt8(ascii: "{") else { return nil }
            return try? JSONDecoder().decode(ErrorBody.self, from: data)
        }
    }
}

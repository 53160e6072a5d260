import Foundation

/// JSON bodies of the REST control plane (reference §3.3). Decoding is lenient: only the sandbox id
/// is required, unknown keys are ignored.
enum NovitaAPIModels {
    /// Body of `POST /sandboxes`. Note the one snake_case key, `allow_internet_access`.
    struct NewSandbox: Encodable, Sendable {
        var templateID: String
        var timeout: Int
        var autoPause: Bool
        var secure: Bool
        var allowInternetAccess: Bool
        var metadata: [String: String]
        var envVars: [String: String]

        enum CodingKeys: String, CodingKey {
            case templateID, timeout, autoPause, secure, metadata, envVars
            case allowInternetAccess = "allow_internet_access"
        }
    }

    /// Body of `POST /sandboxes/{id}/timeout` and of `POST /sandboxes/{id}/connect`: the lifetime in seconds.
    struct Lifetime: Encodable, Sendable {
        var timeout: Int
    }

    /// A sandbox as the control plane describes it: the response of create and connect, of
    /// `GET /sandboxes/{id}` (which adds `domain` and `envdAccessToken`), and each element of
    /// `GET /v2/sandboxes`. Every key but the id is optional, as each call sends a different subset.
    struct Sandbox: Decodable, Sendable {
        var sandboxID: String
        var templateID: String?
        var alias: String?
        var startedAt: String?
        var endAt: String?
        var state: String?
        var envdVersion: String?
        var metadata: [String: String]?
        var domain: String?
        var envdAccessToken: String?

        var info: SandboxInfo {
            SandboxInfo(
                id: sandboxID,
                template: templateID ?? alias ?? "",
                metadata: metadata ?? [:],
                startedAt: startedAt.flatMap(NovitaAPIModels.parseDate) ?? Date(timeIntervalSince1970: 0),
                expiresAt: endAt.flatMap(NovitaAPIModels.parseDate),
                state: state ?? "running"
            )
        }
    }

    /// Error body of every 4xx/5xx: `{"code": int, "message": string}`.
    struct APIError: Decodable, Sendable {
        var message: String?
    }

    /// Parses an RFC 3339 date with or without fractional seconds.
    static func parseDate(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }
}

import Foundation
import GRDB

/// A signed-in browser of the web dashboard: the session cookie's SHA-256 (the store never holds
/// the cookie itself) and the SHA-256 of the API key it was exchanged for, so that revoking the
/// key ends its sessions too.
public struct WebSessionRecord: Sendable, Hashable, Codable {
    /// Lowercase hex SHA-256 of the session token.
    public var tokenHash: String
    /// Lowercase hex SHA-256 of the API key the session was made with.
    public var keyHash: String
    public var createdAt: Date
    /// The session is refused from this moment on.
    public var expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case tokenHash = "token_hash"
        case keyHash = "key_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
    }

    public init(tokenHash: String, keyHash: String, createdAt: Date = Date(), expiresAt: Date) {
        self.tokenHash = tokenHash
        self.keyHash = keyHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

extension WebSessionRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "web_session"
}

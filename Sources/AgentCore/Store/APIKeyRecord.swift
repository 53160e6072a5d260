import Foundation
import GRDB

/// An API key of `ca serve`, as stored: its name, the SHA-256 of the key (never the key), and
/// whether it is an admin key.
public struct APIKeyRecord: Sendable, Hashable, Codable {
    public var name: String
    /// Lowercase hex SHA-256 of the key.
    public var hash: String
    public var admin: Bool
    public var createdAt: Date
    public var revokedAt: Date?

    enum CodingKeys: String, CodingKey {
        case name, hash, admin
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }

    public init(name: String, hash: String, admin: Bool, createdAt: Date = Date(), revokedAt: Date? = nil) {
        self.name = name
        self.hash = hash
        self.admin = admin
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

extension APIKeyRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "api_key"
}

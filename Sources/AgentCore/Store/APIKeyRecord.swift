import Foundation
import GRDB

/// An API key of `ca serve`, as stored: its name, the SHA-256 of the key (never the key), and
/// whether it is an admin key, and the defaults of the tasks it creates.
public struct APIKeyRecord: Sendable, Hashable, Codable {
    public var name: String
    /// Lowercase hex SHA-256 of the key.
    public var hash: String
    public var admin: Bool
    public var createdAt: Date
    public var revokedAt: Date?
    /// Where the end of this key's tasks is posted when a request names no `notify_url`.
    public var notifyURL: String?
    /// The cost cap of this key's tasks when a request names no `max_cost_usd`.
    public var maxCostUSD: Double?

    enum CodingKeys: String, CodingKey {
        case name, hash, admin
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
        case notifyURL = "notify_url"
        case maxCostUSD = "max_cost_usd"
    }

    public init(name: String, hash: String, admin: Bool, createdAt: Date = Date(), revokedAt: Date? = nil,
                notifyURL: String? = nil, maxCostUSD: Double? = nil) {
        self.notifyURL = notifyURL
        self.maxCostUSD = maxCostUSD
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

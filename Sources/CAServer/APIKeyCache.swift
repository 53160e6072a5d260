import AgentCore
import Foundation
import Synchronization

/// API keys recently found in the store, by hash, so that a client's requests do not each read
/// the store. An entry serves for ``maximumAge``: a key revoked with `ca keys revoke` (another
/// process) stops working within that time. Unknown keys are never cached. Bounded: when full,
/// it starts over.
final class APIKeyCache: Sendable {
    private struct Entry: Sendable {
        var principal: RequestPrincipal
        var readAt: ContinuousClock.Instant
    }

    /// How long a found key serves without a look at the store.
    static let maximumAge: Duration = .seconds(5)
    private let capacity: Int
    private let entries = Mutex([String: Entry]())

    init(capacity: Int = 1_000) {
        self.capacity = capacity
    }

    /// The principal of the key with this hash, from the cache or `load` (`nil`: no such key).
    func principal(hash: String, load: () async throws -> RequestPrincipal?) async throws -> RequestPrincipal? {
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[hash] }), now - entry.readAt < Self.maximumAge { return entry.principal }
        guard let principal = try await load() else {
            entries.withLock { _ = $0.removeValue(forKey: hash) }
            return nil
        }
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[hash] = Entry(principal: principal, readAt: now)
        }
        return principal
    }
}

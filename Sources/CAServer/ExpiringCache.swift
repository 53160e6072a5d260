import Foundation
import Synchronization

/// A bounded map whose entries serve for at most ``maximumAge``; when full, it starts over.
/// What the server keeps to spare the store a read per request (found API keys, answers of
/// `GET /v1/tasks/{id}`).
final class ExpiringCache<Value: Sendable>: Sendable {
    private struct Entry: Sendable {
        var value: Value
        var storedAt: ContinuousClock.Instant
    }

    /// How long an entry serves.
    let maximumAge: Duration
    private let capacity: Int
    private let entries = Mutex([String: Entry]())

    init(maximumAge: Duration, capacity: Int) {
        self.maximumAge = maximumAge
        self.capacity = max(1, capacity)
    }

    /// The value stored for `key`, unless it is older than ``maximumAge`` at `now`.
    func value(for key: String, now: ContinuousClock.Instant = .now) -> Value? {
        guard let entry = entries.withLock({ $0[key] }), now - entry.storedAt < maximumAge else { return nil }
        return entry.value
    }

    /// Stores `value` as of `time` (when what it holds was read).
    func store(_ value: Value, for key: String, at time: ContinuousClock.Instant) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(value: value, storedAt: time)
        }
    }

    func remove(_ key: String) {
        entries.withLock { _ = $0.removeValue(forKey: key) }
    }
}

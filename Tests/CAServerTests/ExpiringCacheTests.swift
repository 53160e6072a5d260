@testable import CAServer
import Testing

/// The map behind the server's key and answer caches: entries age out, and a full map starts over.
@Suite struct ExpiringCacheTests {
    @Test func entriesServeUntilTheyAreTooOld() {
        let cache = ExpiringCache<Int>(maximumAge: .seconds(5), capacity: 10)
        let start = ContinuousClock.now
        cache.store(1, for: "a", at: start)
        #expect(cache.value(for: "a", now: start + .seconds(4)) == 1)
        #expect(cache.value(for: "a", now: start + .seconds(5)) == nil)
        #expect(cache.value(for: "b", now: start) == nil)
        cache.remove("a")
        #expect(cache.value(for: "a", now: start) == nil)
    }

    @Test func aFullCacheStartsOver() {
        let cache = ExpiringCache<Int>(maximumAge: .seconds(60), capacity: 2)
        let now = ContinuousClock.now
        cache.store(1, for: "a", at: now)
        cache.store(2, for: "b", at: now)
        cache.store(20, for: "b", at: now)
        #expect(cache.value(for: "a", now: now) == 1, "replacing an entry does not empty the map")
        cache.store(3, for: "c", at: now)
        #expect(cache.value(for: "a", now: now) == nil && cache.value(for: "b", now: now) == nil)
        #expect(cache.value(for: "c", now: now) == 3)
    }
}

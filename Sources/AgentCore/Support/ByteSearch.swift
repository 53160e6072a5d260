#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-wise substring search (`memchr` for the first byte, then `memcmp`): much cheaper on
/// Linux than `String.contains`, which goes through Foundation's Unicode-aware search.
enum ByteSearch {
    /// Offset of the first occurrence of `needle` in `haystack` at or after `start`, or `nil`.
    static func firstOffset(of needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Int? {
        guard let n = needle.baseAddress, !needle.isEmpty else { return needle.isEmpty ? start : nil }
        guard let h = haystack.baseAddress, haystack.count >= needle.count else { return nil }
        let last = haystack.count - needle.count
        let first = Int32(n.pointee)
        var offset = start
        while offset <= last {
            guard let hit = memchr(h + offset, first, last - offset + 1) else { return nil }
            let position = UnsafeRawPointer(hit) - UnsafeRawPointer(h)
            if memcmp(hit, n, needle.count) == 0 { return position }
            offset = position + 1
        }
        return nil
    }

    /// Calls `body` with the range of every occurrence of `needle` (overlapping ones included).
    static func forEachOccurrence(of needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>,
                                  _ body: (Range<Int>) -> Void) {
        guard !needle.isEmpty else { return }
        var start = 0
        while let hit = firstOffset(of: needle, in: haystack, from: start) {
            body(hit..<(hit + needle.count))
            start = hit + 1
        }
    }

    /// Whether `byte` occurs in `haystack`.
    static func contains(_ byte: UInt8, in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let h = haystack.baseAddress, !haystack.isEmpty else { return false }
        return memchr(h, Int32(byte), haystack.count) != nil
    }
}

import Foundation

/// One message of a Connect streaming body: a flags byte, a 32-bit big-endian length and a payload.
///
/// The Connect protocol frames every message of a server-streaming call this way. Flag `0x02`
/// marks the final end-of-stream message, whose payload is `{}` or `{"error": {…}}`.
public struct ConnectEnvelope: Sendable, Hashable {
    /// Flag bit of a compressed payload (never used by this client).
    public static let compressedFlag: UInt8 = 0x01
    /// Flag bit of the end-of-stream message.
    public static let endStreamFlag: UInt8 = 0x02
    /// Size of the prefix before the payload.
    public static let prefixLength = 5

    /// The flags byte.
    public var flags: UInt8
    /// The payload (JSON with the codec this client uses).
    public var payload: Data

    public init(flags: UInt8 = 0, payload: Data) {
        self.flags = flags
        self.payload = payload
    }

    /// Whether this is the end-of-stream message.
    public var isEndOfStream: Bool { flags & Self.endStreamFlag != 0 }

    /// The envelope as bytes: prefix followed by the payload.
    public func encoded() -> Data {
        var data = Data(capacity: Self.prefixLength + payload.count)
        data.append(flags)
        let length = UInt32(payload.count)
        data.append(UInt8(truncatingIfNeeded: length >> 24))
        data.append(UInt8(truncatingIfNeeded: length >> 16))
        data.append(UInt8(truncatingIfNeeded: length >> 8))
        data.append(UInt8(truncatingIfNeeded: length))
        data.append(payload)
        return data
    }
}

import Foundation

/// Splits a Connect streaming body into ``ConnectEnvelope``s.
///
/// HTTP chunk boundaries do not line up with envelopes, so the decoder keeps the bytes of an
/// incomplete envelope until the rest arrives. Feed it every chunk in order with ``append(_:)``
/// and take complete envelopes with ``next()``.
public struct EnvelopeDecoder: Sendable {
    /// Largest payload accepted; a larger length prefix means a corrupt or hostile stream.
    public var maximumPayloadLength: Int

    private var buffer = Data()
    private var readOffset = 0

    public init(maximumPayloadLength: Int = 64 * 1024 * 1024) {
        self.maximumPayloadLength = maximumPayloadLength
    }

    /// Bytes received but not yet returned as part of an envelope.
    public var bufferedByteCount: Int { buffer.count - readOffset }

    /// Adds the next bytes of the body.
    public mutating func append(_ bytes: Data) {
        if readOffset > 0 && readOffset == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readOffset = 0
        } else if readOffset > 64 * 1024 && readOffset * 2 > buffer.count {
            buffer.removeSubrange(buffer.startIndex..<(buffer.startIndex + readOffset))
            readOffset = 0
        }
        buffer.append(bytes)
    }

    /// Returns the next complete envelope, or `nil` when more bytes are needed.
    ///
    /// - Throws: ``SandboxError/streamEnded(_:)`` when a length prefix exceeds ``maximumPayloadLength``.
    public mutating func next() throws(SandboxError) -> ConnectEnvelope? {
        guard bufferedByteCount >= ConnectEnvelope.prefixLength else { return nil }
        let start = buffer.startIndex + readOffset
        let flags = buffer[start]
        var length = 0
        for index in 1...4 {
            length = (length << 8) | Int(buffer[start + index])
        }
        guard length <= maximumPayloadLength else {
            throw SandboxError.streamEnded("stream message of \(length) bytes exceeds the limit of \(maximumPayloadLength)")
        }
        guard bufferedByteCount >= ConnectEnvelope.prefixLength + length else { return nil }
        let payloadStart = start + ConnectEnvelope.prefixLength
        let payload = Data(buffer[payloadStart..<(payloadStart + length)])
        readOffset += ConnectEnvelope.prefixLength + length
        return ConnectEnvelope(flags: flags, payload: payload)
    }
}

import Foundation

/// Reads the messages of a Connect server-streaming response body (reference §4.2).
///
/// Chunks are buffered by an ``EnvelopeDecoder``, so envelope and chunk boundaries need not match.
struct ConnectStreamReader {
    /// What the next read produced.
    enum Item {
        /// A regular message's JSON payload.
        case message(Data)
        /// The end-of-stream message, with the error it carries if any.
        case end(ConnectError?)
        /// The body ended without an end-of-stream message.
        case closed
    }

    private var iterator: NovitaHTTPBody.AsyncIterator
    private var decoder = EnvelopeDecoder()

    init(body: NovitaHTTPBody) {
        self.iterator = body.makeAsyncIterator()
    }

    /// Returns the next message, reading more of the body as needed.
    ///
    /// - Throws: ``NovitaTransportError`` when the connection breaks or the framing is corrupt.
    mutating func next() async throws(NovitaTransportError) -> Item {
        while true {
            let envelope: ConnectEnvelope?
            do {
                envelope = try decoder.next()
            } catch {
                throw NovitaTransportError(.other, error.description)
            }
            if let envelope {
                if envelope.isEndOfStream {
                    return .end(ConnectError(endOfStreamPayload: envelope.payload))
                }
                if envelope.flags & ConnectEnvelope.compressedFlag != 0 {
                    throw NovitaTransportError(.other, "compressed stream messages are not supported")
                }
                return .message(envelope.payload)
            }
            let chunk: Data?
            do {
                chunk = try await iterator.next()
            } catch {
                throw NovitaTransportError.from(error)
            }
            guard let chunk else { return .closed }
            decoder.append(chunk)
        }
    }
}

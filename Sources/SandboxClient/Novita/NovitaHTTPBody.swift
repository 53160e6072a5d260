import Foundation

/// A response body read chunk by chunk, as the bytes arrive.
///
/// Iteration throws ``NovitaTransportError`` when the connection breaks. Iterate it once.
public struct NovitaHTTPBody: AsyncSequence, Sendable {
    public typealias Element = Data

    /// Iterator over the chunks of a body.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let nextChunk: () async throws -> Data?

        /// Creates an iterator from a function returning the next chunk, `nil` at the end.
        public init(_ nextChunk: @escaping () async throws -> Data?) {
            self.nextChunk = nextChunk
        }

        public mutating func next() async throws -> Data? {
            try await nextChunk()
        }
    }

    private let makeIterator: @Sendable () -> AsyncIterator

    /// Creates a body from a factory of its (single) iterator.
    public init(makeIterator: @escaping @Sendable () -> AsyncIterator) {
        self.makeIterator = makeIterator
    }

    /// A body already in memory, delivered as one chunk.
    public static func data(_ data: Data) -> NovitaHTTPBody {
        NovitaHTTPBody {
            var delivered = data.isEmpty
            return AsyncIterator {
                if delivered { return nil }
                delivered = true
                return data
            }
        }
    }

    /// An empty body.
    public static var empty: NovitaHTTPBody { .data(Data()) }

    public func makeAsyncIterator() -> AsyncIterator { makeIterator() }

    /// Reads the whole body.
    ///
    /// - Parameter limit: Largest accepted size in bytes.
    /// - Throws: ``NovitaTransportError`` when the connection breaks or the body is larger than `limit`.
    public func collect(limit: Int) async throws(NovitaTransportError) -> Data {
        var result = Data()
        do {
            for try await chunk in self {
                guard result.count + chunk.count <= limit else {
                    throw NovitaTransportError(.other, "response body larger than \(limit) bytes")
                }
                result.append(chunk)
            }
        } catch {
            throw NovitaTransportError.from(error)
        }
        return result
    }
}

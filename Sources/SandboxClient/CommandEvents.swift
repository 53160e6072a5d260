import Foundation

/// The output and exit of a sandboxed process, as an async sequence of ``CommandEvent``s.
///
/// It wraps the backend's stream and tells the backend how many output bytes the consumer has
/// taken, so a backend can stop reading from a process whose output is not consumed fast
/// enough (backpressure) instead of buffering it without bound.
public struct CommandEvents: AsyncSequence, Sendable {
    public typealias Element = CommandEvent

    private let stream: AsyncThrowingStream<CommandEvent, any Error>
    private let consumed: @Sendable (Int) -> Void

    /// - Parameters:
    ///   - stream: the events as the backend produces them.
    ///   - consumed: called with the size of each output chunk once the consumer took it.
    public init(_ stream: AsyncThrowingStream<CommandEvent, any Error>, consumed: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.stream = stream
        self.consumed = consumed
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), consumed: consumed)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<CommandEvent, any Error>.AsyncIterator
        let consumed: @Sendable (Int) -> Void

        public mutating func next() async throws -> CommandEvent? {
            let event = try await base.next()
            switch event {
            case .stdout(let data), .stderr(let data): consumed(data.count)
            default: break
            }
            return event
        }
    }
}

import AgentCore
import Foundation

/// A task's events as Server-Sent Events: each event as `id: <seq>`, `event: event`,
/// `data: <event JSON>`; a `: keep-alive` comment after 15 s without events; and, when the task
/// ended, `event: end` with the task. A client that reconnects with `Last-Event-ID` gets what
/// followed that event, each event once.
struct EventStream: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>

    let follow: TaskFollow

    func makeAsyncIterator() -> Iterator {
        Iterator(base: follow.makeAsyncIterator())
    }

    struct Iterator: AsyncIteratorProtocol {
        var base: TaskFollow.Iterator
        var ended = false

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard !ended else { return nil }
            guard let item = try await base.next() else { return nil }
            switch item {
            case .event(let event):
                let data = try Self.encoder.encode(try TaskAPI.schema(event))
                return ArraySlice(Array("id: \(event.sequence)\nevent: event\ndata: ".utf8) + Array(data) + Array("\n\n".utf8))
            case .finished(let task):
                ended = true
                let data = try Self.encoder.encode(TaskAPI.schema(task))
                return ArraySlice(Array("event: end\ndata: ".utf8) + Array(data) + Array("\n\n".utf8))
            case .idle:
                return ArraySlice(Array(": keep-alive\n\n".utf8))
            }
        }

        static var encoder: JSONEncoder {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .custom { date, encoder in
                var container = encoder.singleValueContainer()
                try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            }
            return encoder
        }
    }
}

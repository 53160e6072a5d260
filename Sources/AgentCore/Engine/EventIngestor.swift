import Foundation
import Synchronization

/// Turns the agent's stdout into stored events.
///
/// Bytes arrive in arbitrary chunks; complete lines are parsed, redacted and written to the
/// store in one transaction per chunk, so ingestion keeps up with any agent (see the
/// `ca-bench` ingestion figure) while every line is durable a moment after it arrives.
public final class EventIngestor: Sendable {
    /// Longest stream-json line stored; longer ones are dropped and noted.
    public static let maximumLineLength = 8 << 20

    private struct State {
        var splitter = LineSplitter(maximumLineLength: EventIngestor.maximumLineLength)
        /// Bytes of the stream taken in so far, counted from the start of the recording (`nil`
        /// when the offset is not tracked).
        var received: Int?
    }

    private let store: TaskStore
    private let taskID: String
    private let redactor: SecretRedactor
    private let state: Mutex<State>

    /// Called after each batch of events was stored (wakes followers).
    private let onStored: @Sendable () -> Void

    /// Events are stored after the last one already stored for the task (see ``TaskStore/append(events:)``).
    /// - Parameter offset: when the stream is also recorded in the sandbox, where this stream
    ///   starts in the recording; the task's `agentOffset` then follows every stored batch.
    public init(store: TaskStore, taskID: String, redactor: SecretRedactor, offset: Int? = nil, onStored: @escaping @Sendable () -> Void = {}) {
        self.onStored = onStored
        self.store = store
        self.taskID = taskID
        self.redactor = redactor
        var state = State()
        state.received = offset
        self.state = Mutex(state)
    }

    /// Takes a chunk of stdout; stores and returns the events of the lines it completed.
    @discardableResult
    public func ingest(_ chunk: Data) async throws(StoreError) -> [AgentEvent] {
        let (pieces, offset) = state.withLock { s in
            let pieces = s.splitter.append(chunk)
            s.received = s.received.map { $0.addingReportingOverflow(chunk.count).overflow ? Int.max : $0 + chunk.count }
            return (pieces, s.received.map { $0 - s.splitter.pendingByteCount })
        }
        return try await store(pieces, offset: offset)
    }

    /// Stores the last line if the stream ended without a newline.
    @discardableResult
    public func finish() async throws(StoreError) -> [AgentEvent] {
        let (rest, offset) = state.withLock { s in (s.splitter.finish(), s.received) }
        guard let rest else { return [] }
        return try await store([rest], offset: offset)
    }

    /// Stores a note from ca itself (`type` `ca`), such as a phase change.
    public func note(_ phase: String, _ message: String) async throws(StoreError) {
        let record = noteRecord(phase, message, at: Date())
        try await store.append(events: [record])
        onStored()
    }

    /// A `ca` event record (sequence not yet assigned).
    private func noteRecord(_ phase: String, _ message: String, at date: Date) -> EventRecord {
        let payload: [String: String] = ["type": "ca", "subtype": phase, "message": redactor.redact(message)]
        let json = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return EventRecord(taskID: taskID, sequence: 0, type: "ca", subtype: phase, createdAt: date, payload: json)
    }

    private func store(_ pieces: [LineSplitter.Piece], offset: Int? = nil) async throws(StoreError) -> [AgentEvent] {
        var records: [EventRecord] = []
        var events: [AgentEvent] = []
        records.reserveCapacity(pieces.count)
        let now = Date()
        for piece in pieces {
            let line: Data
            switch piece {
            case .line(let data):
                line = data
            case .dropped(let bytes):
                records.append(noteRecord("output", "dropped an output line of \(bytes) bytes (longer than the \(Self.maximumLineLength >> 20) MiB limit)", at: now))
                continue
            }
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
            var bytes = line
            if bytes.last == 0x0D { bytes.removeLast() }
            // Redacted as bytes and, when it holds `\u` or `\/` escapes, as decoded JSON too; the
            // event is built from the redacted value, so the observer never sees a secret either.
            let (cleaned, object) = redactor.redactJSONLine(bytes, parse: true)
            let parsed = (object as? [String: Any]).flatMap { o in (o["type"] as? String).map { AgentEvent(type: $0, object: o) } }
            let text = String(decoding: cleaned, as: UTF8.self)
            let type = parsed?.type ?? "raw"
            if let parsed { events.append(parsed) }
            let payload: String
            if parsed != nil {
                payload = text
            } else {
                // Not JSON (a stray print): keep it, wrapped so every payload is a JSON object.
                let wrapped = (try? JSONSerialization.data(withJSONObject: ["type": "raw", "text": text])) ?? Data("{}".utf8)
                payload = String(decoding: wrapped, as: UTF8.self)
            }
            records.append(EventRecord(taskID: taskID, sequence: 0, type: type, subtype: parsed?.subtype, createdAt: now, payload: payload))
        }
        guard !records.isEmpty else { return events }
        try await store.append(events: records, agentOffset: offset)
        onStored()
        return events
    }
}

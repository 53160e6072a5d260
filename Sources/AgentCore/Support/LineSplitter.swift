import Foundation

/// Splits a byte stream that arrives in arbitrary chunks into `\n`-terminated lines.
///
/// Each byte is looked at once: a chunk is scanned from where the previous one stopped, so a
/// long line arriving in many small chunks costs linear time. A line longer than
/// ``maximumLineLength`` is not buffered: its bytes are counted and dropped, and the splitter
/// reports a ``Piece/dropped(bytes:)`` where the line would have been.
public struct LineSplitter: Sendable {
    /// What the splitter found in the stream.
    public enum Piece: Sendable, Hashable {
        /// A complete line, without its `\n`.
        case line(Data)
        /// A line over the limit, dropped; `bytes` is its length (saturating at `Int.max`).
        case dropped(bytes: Int)

        /// The line's bytes, or `nil` for a dropped line.
        public var line: Data? {
            if case .line(let data) = self { return data }
            return nil
        }
    }

    /// The start of the current line, while it is within the limit.
    private var buffer = Data()
    /// Length so far of the current line once it went over the limit (`nil` while it is not).
    private var droppedLength: Int?
    /// Lines longer than this are dropped (a runaway line must not eat memory).
    public let maximumLineLength: Int

    /// - Parameter maximumLineLength: longest line kept, in bytes (default 8 MiB).
    public init(maximumLineLength: Int = 8 << 20) {
        self.maximumLineLength = max(1, maximumLineLength)
    }

    /// Adds a chunk and returns the lines (and dropped lines) it completed.
    public mutating func append(_ chunk: Data) -> [Piece] {
        var pieces: [Piece] = []
        var start = chunk.startIndex
        while start < chunk.endIndex {
            let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n"))
            let part = chunk[start..<(newline ?? chunk.endIndex)]
            if let length = droppedLength {
                droppedLength = Self.add(length, part.count)
            } else if part.count > maximumLineLength - buffer.count {
                droppedLength = Self.add(buffer.count, part.count)
                buffer = Data()
            } else {
                buffer.append(part)
            }
            guard let newline else { break }
            if let length = droppedLength {
                pieces.append(.dropped(bytes: length))
                droppedLength = nil
            } else {
                pieces.append(.line(buffer))
                buffer = Data()
            }
            start = chunk.index(after: newline)
        }
        return pieces
    }

    /// Bytes taken in but not yet returned as a line (the start of the current line).
    public var pendingByteCount: Int { droppedLength ?? buffer.count }

    /// Returns what is left after the stream ended (a last line without `\n`), if anything.
    public mutating func finish() -> Piece? {
        defer { buffer = Data(); droppedLength = nil }
        if let length = droppedLength { return .dropped(bytes: length) }
        return buffer.isEmpty ? nil : .line(buffer)
    }

    private static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }
}

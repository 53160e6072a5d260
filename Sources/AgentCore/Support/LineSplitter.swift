import Foundation

/// Splits a byte stream that arrives in arbitrary chunks into `\n`-terminated lines.
public struct LineSplitter: Sendable {
    private var buffer = Data()
    /// Lines longer than this are cut (a runaway line must not eat memory).
    public let maximumLineLength: Int

    public init(maximumLineLength: Int = 64 << 20) {
        self.maximumLineLength = maximumLineLength
    }

    /// Adds a chunk and returns the complete lines it finished, without their `\n`.
    public mutating func append(_ chunk: Data) -> [Data] {
        buffer.append(chunk)
        var lines: [Data] = []
        var start = buffer.startIndex
        while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(Data(buffer[start..<newline]))
            start = buffer.index(after: newline)
        }
        buffer.removeSubrange(buffer.startIndex..<start)
        if buffer.count > maximumLineLength {
            lines.append(Data(buffer.prefix(maximumLineLength)))
            buffer.removeAll()
        }
        return lines
    }

    /// Returns what is left after the stream ended (a last line without `\n`), if anything.
    public mutating func finish() -> Data? {
        defer { buffer.removeAll() }
        return buffer.isEmpty ? nil : buffer
    }
}

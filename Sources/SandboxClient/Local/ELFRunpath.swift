import Foundation

/// Reads the library search path (`DT_RUNPATH`, or the older `DT_RPATH`) of a 64-bit
/// little-endian ELF executable, without running anything.
///
/// The bridge program (a development build of `ca`) finds the Swift runtime through its run
/// path, outside the folders a sandbox sees; those folders are bound read-only for it.
enum ELFRunpath {
    /// The run path's folders (`$ORIGIN` entries dropped), or `[]` when there is none or the
    /// file is not such an executable.
    static func folders(of path: String) -> [String] {
        guard let file = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? file.close() }
        func read(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard count > 0, count <= 1 << 20, (try? file.seek(toOffset: offset)) != nil,
                  let data = try? file.read(upToCount: count), data.count == count else { return nil }
            return [UInt8](data)
        }
        func integer(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in (0..<size).reversed() { value = value << 8 | UInt64(bytes[at + index]) }
            return value
        }
        // ELF header: magic, 64-bit, little endian.
        guard let header = read(0, 64), header[0..<4] == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2, header[5] == 1 else { return [] }
        let programOffset = integer(header, 0x20, 8)
        let entrySize = Int(integer(header, 0x36, 2))
        let entryCount = Int(integer(header, 0x38, 2))
        guard entrySize >= 56, entryCount > 0, entryCount < 256, let table = read(programOffset, entrySize * entryCount) else { return [] }
        var loads: [(virtual: UInt64, offset: UInt64, size: UInt64)] = []
        var dynamic: (offset: UInt64, size: UInt64)?
        for index in 0..<entryCount {
            let base = index * entrySize
            let type = integer(table, base, 4)
            let offset = integer(table, base + 8, 8), virtual = integer(table, base + 16, 8), size = integer(table, base + 32, 8)
            if type == 1 { loads.append((virtual, offset, size)) }
            if type == 2 { dynamic = (offset, size) }
        }
        guard let dynamic, dynamic.size < 1 << 20, let entries = read(dynamic.offset, Int(dynamic.size)) else { return [] }
        var stringTable: UInt64?
        var runpath: UInt64?
        var rpath: UInt64?
        var index = 0
        while index + 16 <= entries.count {
            let tag = integer(entries, index, 8), value = integer(entries, index + 8, 8)
            if tag == 0 { break }
            if tag == 5 { stringTable = value }
            if tag == 29 { runpath = value }
            if tag == 15 { rpath = value }
            index += 16
        }
        guard let stringTable, let start = runpath ?? rpath,
              let segment = loads.first(where: { stringTable >= $0.virtual && stringTable < $0.virtual + $0.size }),
              let bytes = read(stringTable - segment.virtual + segment.offset + start, 4096) else { return [] }
        let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        return text.split(separator: ":").map(String.init).filter { $0.hasPrefix("/") && !$0.contains("$") }
    }
}

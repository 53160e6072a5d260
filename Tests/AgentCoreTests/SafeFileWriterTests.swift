import Foundation
import Testing
@testable import AgentCore

@Suite struct SafeFileWriterTests {
    @Test func refusesEscapingPaths() throws {
        for bad in ["/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "", "a\u{0}b", String(repeating: "n", count: 256)] {
            #expect(throws: SafeFileWriter.Refusal.self) { try SafeFileWriter.validate(bad) }
        }
        #expect(try SafeFileWriter.validate("dir/odd name\nwith newline ✓.txt") == ["dir", "odd name\nwith newline ✓.txt"])
    }

    @Test func neverFollowsSymlinksOutOfTheRoot() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("ca-safe-\(UUID().uuidString)")
        let root = base.appendingPathComponent("root"), outside = base.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        // A folder symlink and a file symlink planted inside the root, both pointing outside.
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("link"), withDestinationURL: outside)
        try Data("original".utf8).write(to: outside.appendingPathComponent("victim"))
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("file"), withDestinationURL: outside.appendingPathComponent("victim"))

        let writer = SafeFileWriter(root: root)
        #expect(throws: SafeFileWriter.Refusal.self) { try writer.write(Data("x".utf8), to: "link/evil") }
        #expect(throws: SafeFileWriter.Refusal.self) { try writer.write(Data("x".utf8), to: "file") }
        #expect(!FileManager.default.fileExists(atPath: outside.appendingPathComponent("evil").path))
        #expect(try String(contentsOf: outside.appendingPathComponent("victim"), encoding: .utf8) == "original")

        try writer.write(Data("ok".utf8), to: "a/b/c.txt", mode: 0o755)
        #expect(try String(contentsOf: root.appendingPathComponent("a/b/c.txt"), encoding: .utf8) == "ok")
        let attributes = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("a/b/c.txt").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o755)
    }

    @Test func parsesRawDiffAndBatchOutput() {
        let raw = ":000000 100644 " + String(repeating: "0", count: 40) + " " + String(repeating: "a", count: 40) + " A\u{0}new file.txt\u{0}"
            + ":100644 000000 " + String(repeating: "b", count: 40) + " " + String(repeating: "0", count: 40) + " D\u{0}gone\u{0}"
            + ":000000 120000 " + String(repeating: "0", count: 40) + " " + String(repeating: "c", count: 40) + " A\u{0}link\u{0}"
        let changes = WorkspaceChange.parseRaw(Array(raw.utf8))
        #expect(changes.map(\.path) == ["new file.txt", "gone", "link"])
        #expect(changes[0].isRegularFile && changes[1].isDeleted && changes[2].isSymlink)

        let batch = Data("aaa blob 3\nx\ny\nbbb blob 0\n\nccc missing\n".utf8)
        let parsed = WorkspaceExtractor.parseBatch(batch)
        #expect(parsed["aaa"] == Data("x\ny".utf8))
        #expect(parsed["bbb"] == Data())
        #expect(parsed["ccc"] == nil)
    }

    @Test func durationsAndRepositorySources() throws {
        #expect(DurationFormat.parse("90s") == 90)
        #expect(DurationFormat.parse("1h30m") == 5400)
        #expect(DurationFormat.parse("15") == 15)
        #expect(DurationFormat.parse("0") == nil)
        #expect(DurationFormat.parse("ten") == nil)
        #expect(RepositorySource.redactCredentials("https://x-token:ghp_secret@github.com/o/r.git") == "https://github.com/o/r.git")
        #expect(try RepositorySource("git@github.com:o/r.git").location == .remote("git@github.com:o/r.git"))
        #expect(try RepositorySource("file:///tmp").location == .local("/tmp"))
        #expect(throws: TaskError.self) { try RepositorySource("/definitely/not/here") }
    }
}

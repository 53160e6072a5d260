import Foundation
import Testing
import CATestSupport
@testable import SandboxClient
#if canImport(Glibc)
import Glibc
#endif

/// ``LocalTreeRemoval`` on host folders: depth, descriptors, links, locked folders, moves.
///
/// Removals run on a thread of their own through ``BlockingWork`` (thousands of system calls;
/// the unprivileged test also changes that thread's file-system user).
struct LocalTreeRemovalTests {
    /// What one removal did.
    struct Outcome: Sendable {
        var peakDescriptors: Int
        var error: SandboxError?
    }

    /// Runs `body` with a fresh folder under the temporary directory, then deletes it.
    private func withBase(_ body: (String) async throws -> Void) async throws {
        let base = NSTemporaryDirectory() + "ca-removal-tests-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? LocalFileSystem.removeHostFolder(base) }
        try await body(base)
    }

    /// Removes `name` in the folder `base` (on the calling thread).
    private static func removeBlocking(_ name: String, in base: String, afterDescending: ((Int, Int32) -> Void)? = nil) -> Outcome {
        let parent = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { return Outcome(peakDescriptors: 0, error: .io("cannot open \(base)")) }
        defer { close(parent) }
        var removal = LocalTreeRemoval()
        removal.afterDescending = afterDescending
        do throws(SandboxError) {
            try removal.remove(in: parent, name: name, subject: base + "/" + name)
            return Outcome(peakDescriptors: removal.peakDescriptors, error: nil)
        } catch {
            return Outcome(peakDescriptors: removal.peakDescriptors, error: error)
        }
    }

    private func permissions(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    private func exists(_ path: String) -> Bool {
        var info = LocalPOSIX.FileStatus()
        return lstat(path, &info) == 0
    }

    @Test func removesFiveThousandLevelsWithAFewDescriptors() async throws {
        try await withBase { base in
            // Outside the tree: a file and a folder that links inside point to.
            let outside = base + "/outside"
            try FileManager.default.createDirectory(atPath: outside + "/folder", withIntermediateDirectories: true)
            try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: outside + "/target.txt"))
            try Data("keep me too\n".utf8).write(to: URL(fileURLWithPath: outside + "/folder/inner.txt"))
            chmod(outside + "/target.txt", 0o640)
            chmod(outside + "/folder", 0o750)

            let tree = base + "/tree"
            try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
            try DeepFolderTree.make(under: tree, depth: 5000)
            #expect(DeepFolderTree.depth(under: tree) == 5000)
            try FileManager.default.createSymbolicLink(atPath: tree + "/to-file", withDestinationPath: outside + "/target.txt")
            try FileManager.default.createSymbolicLink(atPath: tree + "/to-folder", withDestinationPath: outside + "/folder")
            try FileManager.default.createDirectory(atPath: tree + "/locked/inner", withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: tree + "/locked/inner/file"))
            chmod(tree + "/locked/inner", 0)
            chmod(tree + "/locked", 0)
            #expect(mkfifo(tree + "/fifo", 0o600) == 0)

            let descriptorsBefore = DeepFolderTree.openDescriptorTargets().filter { $0.hasPrefix(tree) }
            let outcome = try await BlockingWork.run { Self.removeBlocking("tree", in: base) }
            #expect(outcome.error == nil, "\(String(describing: outcome.error))")
            #expect(!exists(tree))
            // The current folder, its child or parent for a moment, and a listing's duplicate.
            #expect(outcome.peakDescriptors <= 3, "held \(outcome.peakDescriptors) descriptors at once")
            #expect(descriptorsBefore.isEmpty)
            #expect(DeepFolderTree.openDescriptorTargets().allSatisfy { !$0.hasPrefix(tree) })

            // Links were removed, not followed: their targets and permissions are as they were.
            #expect(try String(contentsOfFile: outside + "/target.txt", encoding: .utf8) == "keep me\n")
            #expect(try String(contentsOfFile: outside + "/folder/inner.txt", encoding: .utf8) == "keep me too\n")
            #expect(try permissions(outside + "/target.txt") == 0o640)
            #expect(try permissions(outside + "/folder") == 0o750)
        }
    }

    @Test func removingNothingOrASingleEntryWorks() async throws {
        try await withBase { base in
            #expect(try await BlockingWork.run { Self.removeBlocking("missing", in: base) }.error == nil)
            try Data("f".utf8).write(to: URL(fileURLWithPath: base + "/file"))
            try FileManager.default.createSymbolicLink(atPath: base + "/link", withDestinationPath: base + "/file")
            #expect(try await BlockingWork.run { Self.removeBlocking("link", in: base) }.error == nil)
            #expect(!exists(base + "/link") && exists(base + "/file"))
            #expect(try await BlockingWork.run { Self.removeBlocking("file", in: base) }.error == nil)
            #expect(!exists(base + "/file"))
        }
    }

    /// A folder its owner made unreadable (mode 000) is removed without any privilege. As root,
    /// the removal runs on a thread whose file-system user is `nobody` (which also drops the
    /// thread's file capabilities), in a tree that user owns.
    @Test func lockedFoldersAreRemovedWithoutPrivileges() async throws {
        try await withBase { base in
            chmod(base, 0o777)
            let outside = base + "/outside.txt"
            try Data("host\n".utf8).write(to: URL(fileURLWithPath: outside))
            chmod(outside, 0o600)
            let result = try await BlockingWork.run { () -> (probe: Int32, outcome: Outcome) in
                let asRoot = geteuid() == 0
                if asRoot { _ = Self.setFileSystemUser(65534) }
                defer { if asRoot { _ = Self.setFileSystemUser(0) } }
                let tree = base + "/tree"
                mkdir(tree, 0o755)
                mkdir(tree + "/locked", 0o755)
                mkdir(tree + "/locked/deeper", 0o755)
                let file = open(tree + "/locked/deeper/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
                close(file)
                symlink(outside, tree + "/locked/link")
                mkdir(tree + "/readonly", 0o755)
                close(open(tree + "/readonly/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644))
                chmod(tree + "/locked/deeper", 0)
                chmod(tree + "/locked", 0)
                chmod(tree + "/readonly", 0o500)
                // Proof that this thread has no privilege over the locked folder.
                let probe = open(tree + "/locked", O_RDONLY | O_DIRECTORY)
                let probeError = probe >= 0 ? 0 : errno
                if probe >= 0 { close(probe) }
                let outcome = Self.removeBlocking("tree", in: base)
                return (probeError, outcome)
            }
            #expect(result.probe == EACCES, "the thread could still open a mode-000 folder")
            #expect(result.outcome.error == nil, "\(String(describing: result.outcome.error))")
            #expect(!exists(base + "/tree"))
            #expect(try String(contentsOfFile: outside, encoding: .utf8) == "host\n")
            #expect(try permissions(outside) == 0o600)
        }
    }

    /// `setfsuid(2)`, which changes the file-system user of the calling thread only (the Glibc
    /// module does not export it). Returns the previous one.
    private static func setFileSystemUser(_ uid: uid_t) -> Int32 {
        typealias SetFSUID = @convention(c) (uid_t) -> Int32
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "setfsuid") else { return -1 }
        return unsafeBitCast(symbol, to: SetFSUID.self)(uid)
    }

    @Test func stopsWhenAFolderIsMovedAwayDuringTheRemoval() async throws {
        try await withBase { base in
            let top = base + "/top"
            try FileManager.default.createDirectory(atPath: top + "/a/b/c/d", withIntermediateDirectories: true)
            try Data("in d".utf8).write(to: URL(fileURLWithPath: top + "/a/b/c/d/file"))
            try Data("in b".utf8).write(to: URL(fileURLWithPath: top + "/a/b/sibling"))
            try Data("in base".utf8).write(to: URL(fileURLWithPath: base + "/bystander"))
            // While the removal is inside c (depth 4: top, a, b, c), c is moved up into base:
            // climbing from c would now reach base instead of b.
            let outcome = try await BlockingWork.run {
                Self.removeBlocking("top", in: base) { depth, _ in
                    if depth == 4 { rename(top + "/a/b/c", base + "/c-moved") }
                }
            }
            guard case .io(let message) = outcome.error else {
                Issue.record("expected an error, got \(String(describing: outcome.error))"); return
            }
            #expect(message.contains("moved while it was being removed"))
            // Nothing outside the folder the removal was in got touched.
            #expect(try String(contentsOfFile: base + "/bystander", encoding: .utf8) == "in base")
            #expect(exists(top + "/a/b"))
        }
    }
}

import Foundation
import SandboxClient

/// Writes executable files (stand-in programs, fake tools) that tests then run at once.
///
/// A file this process opened for writing cannot be executed while any descriptor for writing
/// is still open on it (`ETXTBSY`). Tests fork processes concurrently, and a child forked while
/// the write descriptor is open keeps a copy of it until it calls `exec` — even with
/// `O_CLOEXEC`. Running such a script straight after writing it therefore fails now and then.
/// Here this process never opens the executable for writing: the content goes to a scratch file,
/// and a separate `install` process (which forks nothing) creates the executable from it.
public enum ExecutableScript {
    /// Creates (or replaces) the executable file `path` with `contents`, mode 0755.
    public static func write(_ contents: String, to path: String) async throws {
        let scratch = path + ".source-" + UUID().uuidString.prefix(8)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: scratch))
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let status = try await HostProcess.run("/usr/bin/install", ["-m", "0755", scratch, path],
                                               environment: ProcessInfo.processInfo.environment).status
        guard status == 0 else {
            throw GitFixture.Failure(description: "install -m 0755 \(scratch) \(path) exited with \(status)")
        }
    }
}

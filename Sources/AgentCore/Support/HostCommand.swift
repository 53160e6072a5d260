import Foundation

/// Runs a program on this machine (outside any sandbox) and collects its output.
///
/// Used for the few host-side steps, such as bundling a local repository.
public enum HostCommand {
    /// Result of a finished host command.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs `executable` with `arguments` and waits for it.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           currentDirectory: String? = nil) async throws(TaskError) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
                process.terminationHandler = { _ in }
                do { try process.run() } catch { continuation.resume(throwing: error); return }
                // Read both pipes to the end on background threads, then wait for the exit.
                DispatchQueue.global().async {
                    let group = DispatchGroup()
                    nonisolated(unsafe) var stdout = Data(), stderr = Data()
                    group.enter()
                    DispatchQueue.global().async { stdout = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
                    stderr = err.fileHandleForReading.readDataToEndOfFile()
                    group.wait()
                    process.waitUntilExit()
                    continuation.resume(returning: Output(status: process.terminationStatus, stdout: stdout, stderr: stderr))
                }
            }
        } catch {
            throw TaskError.step("cannot run \(executable): \(error.localizedDescription)")
        }
    }

    /// Finds a program on `PATH`.
    public static func which(_ name: String, path: String?) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

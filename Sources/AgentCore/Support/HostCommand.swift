import Foundation
import SandboxClient

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

    /// Runs `executable` with `arguments` and waits for it (on a thread of its own, see
    /// ``HostProcess``). Without an `environment`, it gets this process's.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           currentDirectory: String? = nil) async throws(TaskError) -> Output {
        let output: HostProcess.Output
        do {
            output = try await HostProcess.run(executable, arguments, environment: environment ?? ProcessInfo.processInfo.environment,
                                               directory: currentDirectory)
        } catch {
            throw TaskError.step("cannot run \(executable): \(error.description)")
        }
        return Output(status: output.status, stdout: output.stdout, stderr: output.stderr)
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

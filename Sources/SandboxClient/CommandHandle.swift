import Foundation

/// A process running in a sandbox.
///
/// Backends build one with closures for the operations they support; the task engine only
/// sees this type. ``events`` yields output as it is produced and ends with ``CommandEvent/exit(_:)``.
public struct CommandHandle: Sendable {
    /// Process id inside the sandbox.
    public let pid: Int
    /// Output and the exit, in order. Throws ``SandboxError`` when the sandbox is lost mid-way.
    public let events: CommandEvents

    private let sendInputOperation: @Sendable (Data) async throws(SandboxError) -> Void
    private let closeInputOperation: @Sendable () async throws(SandboxError) -> Void
    private let signalOperation: @Sendable (SandboxSignal) async throws(SandboxError) -> Void

    public init(
        pid: Int,
        events: CommandEvents,
        sendInput: @escaping @Sendable (Data) async throws(SandboxError) -> Void,
        closeInput: @escaping @Sendable () async throws(SandboxError) -> Void,
        signal: @escaping @Sendable (SandboxSignal) async throws(SandboxError) -> Void
    ) {
        self.pid = pid
        self.events = events
        self.sendInputOperation = sendInput
        self.closeInputOperation = closeInput
        self.signalOperation = signal
    }

    /// Writes bytes to the process's stdin (the command must have been started with `stdin: true`).
    public func sendInput(_ data: Data) async throws(SandboxError) { try await sendInputOperation(data) }
    /// Closes the process's stdin so it reads end-of-file.
    public func closeInput() async throws(SandboxError) { try await closeInputOperation() }
    /// Sends a signal to the process.
    public func signal(_ signal: SandboxSignal) async throws(SandboxError) { try await signalOperation(signal) }

    /// Waits for the end and returns what the process wrote: at most `limit` bytes of each
    /// stream (the first ones of stdout, the last ones of stderr, where errors are reported);
    /// the rest is read and dropped, and ``CommandResult/truncated`` says so.
    public func collect(limit: Int = 16 << 20) async throws(SandboxError) -> CommandResult {
        var out = Data(), err = Data()
        var truncated = false
        do {
            for try await event in events {
                switch event {
                case .stdout(let d):
                    let room = limit - out.count
                    if d.count > room { truncated = true }
                    if room > 0 { out.append(d.prefix(room)) }
                case .stderr(let d):
                    err.append(d)
                    if err.count > limit {
                        err = err.suffix(limit)
                        truncated = true
                    }
                case .exit(let exit):
                    var result = CommandResult(stdout: out, stderr: err, exit: exit)
                    result.truncated = truncated
                    return result
                }
            }
        } catch let error as SandboxError {
            throw error
        } catch {
            throw SandboxError.transport(String(describing: error))
        }
        throw SandboxError.streamEnded("process \(pid) ended without an exit status")
    }
}

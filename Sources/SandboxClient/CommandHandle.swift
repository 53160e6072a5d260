import Foundation

/// A process running in a sandbox.
///
/// Backends build one with closures for the operations they support; the task engine only
/// sees this type. ``events`` yields output as it is produced and ends with ``CommandEvent/exit(_:)``.
public struct CommandHandle: Sendable {
    /// Process id inside the sandbox.
    public let pid: Int
    /// Output and the exit, in order. Throws ``SandboxError`` when the sandbox is lost mid-way.
    public let events: AsyncThrowingStream<CommandEvent, any Error>

    private let sendInputOperation: @Sendable (Data) async throws(SandboxError) -> Void
    private let closeInputOperation: @Sendable () async throws(SandboxError) -> Void
    private let signalOperation: @Sendable (SandboxSignal) async throws(SandboxError) -> Void

    public init(
        pid: Int,
        events: AsyncThrowingStream<CommandEvent, any Error>,
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

    /// Waits for the end and returns everything the process wrote.
    public func collect() async throws(SandboxError) -> CommandResult {
        var out = Data(), err = Data()
        do {
            for try await event in events {
                switch event {
                case .stdout(let d): out.append(d)
                case .stderr(let d): err.append(d)
                case .exit(let exit): return CommandResult(stdout: out, stderr: err, exit: exit)
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

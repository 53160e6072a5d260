import Foundation

/// A Novita (or E2B) sandbox: processes and files through its envd daemon, lifetime through the REST API.
///
/// Get one from ``NovitaSandboxProvider/create(_:)`` or ``NovitaSandboxProvider/connect(id:)``.
/// Every envd request carries `X-Access-Token` when the sandbox is secure (the default).
public struct NovitaSandbox: Sandbox {
    /// The sandbox id.
    public let id: String
    /// `/home/user`, the home of envd's default user; relative paths resolve against it.
    public let homeDirectory: String = "/home/user"
    /// Base URL of envd (`https://49983-<id>.<domain>` unless overridden).
    public let envdURL: URL
    /// envd version reported by the service, if any.
    public let envdVersion: String?
    /// Consecutive failed re-attach attempts tolerated when a process stream breaks.
    public let maximumReattachAttempts: Int

    let envd: NovitaEnvdClient
    let api: NovitaAPIClient

    init(
        id: String,
        envdVersion: String?,
        domain: String?,
        accessToken: String?,
        createdByThisProcess: Bool,
        api: NovitaAPIClient,
        maximumReattachAttempts: Int
    ) throws(SandboxError) {
        let configuration = api.configuration
        let envdURL = try configuration.envdBaseURL(sandboxID: id, sandboxDomain: domain)
        self.id = id
        self.envdURL = envdURL
        self.envdVersion = envdVersion
        self.maximumReattachAttempts = maximumReattachAttempts
        self.api = api
        self.envd = NovitaEnvdClient(
            configuration: configuration,
            baseURL: envdURL,
            sandboxID: id,
            accessToken: accessToken.flatMap { $0.isEmpty ? nil : $0 },
            sendsRoutingHeaders: createdByThisProcess,
            executor: api.executor.hiding(accessToken)
        )
    }

    // MARK: - Processes

    /// Starts `command.executable` with `command.arguments` (`process.Process/Start`).
    ///
    /// No `connect-timeout-ms` is sent, so envd sets no deadline (a deadline would kill the process); the
    /// caller's own deadline governs. Output is forwarded as it arrives; when the connection drops before
    /// the end event the handle re-attaches with `process.Process/Connect` by pid.
    public func start(_ command: CommandSpec) async throws(SandboxError) -> CommandHandle {
        let request = NovitaEnvdModels.StartRequest(
            process: .init(
                cmd: command.executable,
                args: command.arguments,
                envs: command.environment.isEmpty ? nil : command.environment,
                cwd: command.cwd
            ),
            stdin: command.stdin
        )
        let streamHeaders = [(name: "Keepalive-Ping-Interval", value: String(api.configuration.keepalivePingInterval))]
        var reader: ConnectStreamReader
        switch try await envd.openStream("process.Process/Start", request, extraHeaders: streamHeaders) {
        case .failure(let error):
            throw redact(error.sandboxError(subject: "starting \(command.executable)"))
        case .success(let opened):
            reader = opened
        }
        let pid = try await readStartEvent(&reader, command: command)

        let pump = NovitaProcessEventPump(pid: pid, envd: envd, maximumReattachAttempts: maximumReattachAttempts, streamHeaders: streamHeaders)
        let (events, continuation) = AsyncThrowingStream<CommandEvent, any Error>.makeStream()
        let task = Task { [reader] in
            await pump.run(reader: reader, into: continuation)
        }
        continuation.onTermination = { _ in task.cancel() }

        let envd = self.envd
        let selector = NovitaEnvdModels.ProcessSelector(pid: pid)
        return CommandHandle(
            pid: Int(pid),
            events: CommandEvents(events),
            sendInput: { data throws(SandboxError) in
                let message = NovitaEnvdModels.SendInputRequest(process: selector, input: .init(stdin: data.base64EncodedString()))
                if case .failure(let error) = try await envd.unary("process.Process/SendInput", message, as: NovitaEnvdModels.Empty.self, idempotent: false) {
                    throw envd.executor.redact(error.sandboxError(subject: "writing to stdin of process \(pid)"))
                }
            },
            closeInput: { () throws(SandboxError) in
                let message = NovitaEnvdModels.CloseStdinRequest(process: selector)
                if case .failure(let error) = try await envd.unary("process.Process/CloseStdin", message, as: NovitaEnvdModels.Empty.self, idempotent: false) {
                    throw envd.executor.redact(error.sandboxError(subject: "closing stdin of process \(pid)"))
                }
            },
            signal: { signal throws(SandboxError) in
                let message = NovitaEnvdModels.SendSignalRequest(process: selector, signal: signal.rawValue)
                let result = try await envd.unary("process.Process/SendSignal", message, as: NovitaEnvdModels.Empty.self, idempotent: false)
                if case .failure(let error) = result, error.code != "not_found" {
                    throw envd.executor.redact(error.sandboxError(subject: "signalling process \(pid)"))
                }
            }
        )
    }

    /// Reads up to the first `start` event and returns its pid.
    private func readStartEvent(_ reader: inout ConnectStreamReader, command: CommandSpec) async throws(SandboxError) -> UInt32 {
        while true {
            let item: ConnectStreamReader.Item
            do {
                item = try await reader.next()
            } catch {
                throw redact(SandboxError.transport("starting \(command.executable): \(error.message)"))
            }
            switch item {
            case .closed, .end(nil):
                throw SandboxError.streamEnded("process stream of \(command.executable) ended before its start event")
            case .end(let error?):
                throw redact(error.sandboxError(subject: "starting \(command.executable)"))
            case .message(let payload):
                let message: NovitaEnvdModels.ProcessMessage
                do {
                    message = try JSONDecoder().decode(NovitaEnvdModels.ProcessMessage.self, from: payload)
                } catch {
                    throw SandboxError.server(status: 200, message: "unreadable process event: \(error)")
                }
                if let start = message.event?.start {
                    return start.pid
                }
                if message.event?.keepalive != nil { continue }
                throw SandboxError.server(status: 200, message: "process stream of \(command.executable) did not begin with a start event")
            }
        }
    }

    // MARK: - Files

    public func readFile(_ path: String, maximumSize: Int) async throws(SandboxError) -> Data {
        try await envd.download(path: path, maximumSize: maximumSize)
    }

    public func writeFile(_ path: String, contents: Data) async throws(SandboxError) {
        try await envd.upload(path: path, contents: contents)
    }

    public func listDirectory(_ path: String, depth: Int = 1) async throws(SandboxError) -> [FileEntry] {
        let message = NovitaEnvdModels.ListDirRequest(path: path, depth: UInt32(clamping: max(1, depth)))
        switch try await envd.unary("filesystem.Filesystem/ListDir", message, as: NovitaEnvdModels.ListDirResponse.self, idempotent: true) {
        case .success(let response):
            return (response.entries ?? []).map(\.fileEntry)
        case .failure(let error):
            throw redact(error.sandboxError(subject: path))
        }
    }

    public func stat(_ path: String) async throws(SandboxError) -> FileEntry? {
        switch try await envd.unary("filesystem.Filesystem/Stat", NovitaEnvdModels.PathRequest(path: path), as: NovitaEnvdModels.EntryResponse.self, idempotent: true) {
        case .success(let response):
            return response.entry?.fileEntry
        case .failure(let error) where error.code == "not_found":
            return nil
        case .failure(let error):
            throw redact(error.sandboxError(subject: path))
        }
    }

    @discardableResult
    public func makeDirectory(_ path: String) async throws(SandboxError) -> Bool {
        switch try await envd.unary("filesystem.Filesystem/MakeDir", NovitaEnvdModels.PathRequest(path: path), as: NovitaEnvdModels.EntryResponse.self, idempotent: false) {
        case .success:
            return true
        case .failure(let error) where error.code == "already_exists":
            return false
        case .failure(let error):
            throw redact(error.sandboxError(subject: path))
        }
    }

    /// Removes a file or a folder with its contents; removing nothing is not an error.
    public func remove(_ path: String) async throws(SandboxError) {
        switch try await envd.unary("filesystem.Filesystem/Remove", NovitaEnvdModels.PathRequest(path: path), as: NovitaEnvdModels.Empty.self, idempotent: false) {
        case .success:
            return
        case .failure(let error) where error.code == "not_found":
            return
        case .failure(let error):
            throw redact(error.sandboxError(subject: path))
        }
    }

    /// Renames or moves a file or folder (`filesystem.Filesystem/Move`) and returns the entry at its new path.
    @discardableResult
    public func move(from source: String, to destination: String) async throws(SandboxError) -> FileEntry? {
        let message = NovitaEnvdModels.MoveRequest(source: source, destination: destination)
        switch try await envd.unary("filesystem.Filesystem/Move", message, as: NovitaEnvdModels.EntryResponse.self, idempotent: false) {
        case .success(let response):
            return response.entry?.fileEntry
        case .failure(let error):
            throw redact(error.sandboxError(subject: "\(source) → \(destination)"))
        }
    }

    // MARK: - Lifetime

    /// `POST /sandboxes/{id}/timeout`: the sandbox expires `seconds` from now.
    public func setLifetime(seconds: Int) async throws(SandboxError) {
        try await api.setTimeout(id: id, seconds: seconds)
    }

    /// `DELETE /sandboxes/{id}`; a sandbox that is already gone is not an error.
    public func kill() async throws(SandboxError) {
        _ = try await api.delete(id: id)
    }

    /// `POST /sandboxes/{id}/pause`.
    public func pause() async throws(SandboxError) {
        try await api.pause(id: id)
    }

    private func redact(_ error: SandboxError) -> SandboxError {
        envd.executor.redact(error)
    }
}

extension NovitaSandbox: CustomStringConvertible, CustomReflectable {
    /// Names the sandbox and its envd URL; never the access token.
    public var description: String { "NovitaSandbox(id: \(id), envd: \(envdURL.absoluteString))" }

    /// A mirror without credentials, so `dump` cannot print them.
    public var customMirror: Mirror {
        Mirror(self, children: ["id": id, "envdURL": envdURL, "envdVersion": envdVersion as Any], displayStyle: .struct)
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fake envd: Connect RPCs (`process.Process/*`, `filesystem.Filesystem/*`) and `/files`.
extension FakeNovitaBackend {
    /// HTTP status that connect-go sends for each Connect code.
    static func httpStatus(forConnectCode code: String) -> Int {
        switch code {
        case "canceled": return 499
        case "invalid_argument", "failed_precondition", "out_of_range": return 400
        case "deadline_exceeded": return 504
        case "not_found": return 404
        case "already_exists", "aborted": return 409
        case "permission_denied": return 403
        case "resource_exhausted": return 429
        case "unimplemented": return 501
        case "unavailable": return 503
        case "unauthenticated": return 401
        default: return 500
        }
    }

    func handleEnvd(_ request: HTTPRequest, _ writer: HTTPResponseWriter) async {
        if request.path == "/health" {
            try? await writer.respond(status: 204)
            return
        }
        let record: SandboxRecord
        switch route(request) {
        case .success(let found):
            record = found
        case .failure(let failure):
            try? await writer.respondJSON(status: failure.status, ["code": failure.status, "message": failure.message])
            return
        }
        let fs = record.fileSystem
        switch request.path {
        case "/files":
            await handleFiles(request, writer, fs)
        case "/process.Process/Start":
            await startProcess(request, writer, record)
        case "/process.Process/Connect":
            await connectProcess(request, writer, record)
        default:
            await handleUnary(request, writer, record)
        }
    }

    private struct RouteFailure: Error {
        var status: Int
        var message: String
    }

    /// Finds the sandbox of an envd request.
    ///
    /// All fake sandboxes share one envd URL, so the sandbox is identified by the `Novita-Sandbox-Id`
    /// (or `E2b-Sandbox-Id`) routing header, which clients send for sandboxes they created, or else
    /// by its `X-Access-Token`, which is unique per sandbox (clients that attached with connect()
    /// send only the token).
    private func route(_ request: HTTPRequest) -> Result<SandboxRecord, RouteFailure> {
        let id = request.header("Novita-Sandbox-Id") ?? request.header("E2b-Sandbox-Id")
        let token = request.header("X-Access-Token")
        return state.withLock { state -> Result<SandboxRecord, RouteFailure> in
            let record: SandboxRecord
            if let id {
                guard let found = state.sandboxes[id] else {
                    return .failure(RouteFailure(status: 502, message: "sandbox \(id) is not running"))
                }
                record = found
            } else if let token, let found = state.sandboxes.values.first(where: { $0.accessToken == token }) {
                record = found
            } else if token == nil, state.sandboxes.count == 1, let only = state.sandboxes.values.first, !only.secure {
                record = only
            } else if token != nil {
                return .failure(RouteFailure(status: 502, message: "no running sandbox for this access token"))
            } else {
                return .failure(RouteFailure(status: 401, message: "missing access token"))
            }
            if record.secure && token != record.accessToken {
                let message = options.echoesCredentialsInErrors ? "invalid access token: \(token ?? "")" : "unauthorized access, please provide a valid access token"
                return .failure(RouteFailure(status: 401, message: message))
            }
            if record.paused {
                return .failure(RouteFailure(status: 502, message: "sandbox \(record.id) is paused"))
            }
            return .success(record)
        }
    }

    // MARK: - /files

    private func handleFiles(_ request: HTTPRequest, _ writer: HTTPResponseWriter, _ fs: FakeNovitaFileSystem) async {
        func fail(_ status: Int, _ message: String) async {
            try? await writer.respondJSON(status: status, ["code": status, "message": message])
        }
        func status(of failure: FakeNovitaFileSystem.Failure) -> Int {
            switch failure.code {
            case "not_found": return 404
            case "invalid_argument": return 400
            default: return 500
            }
        }
        switch request.method {
        case "GET":
            guard let path = request.query["path"], !path.isEmpty else {
                await fail(400, "missing path")
                return
            }
            do {
                let data = try fs.read(path)
                try? await writer.respond(status: 200, headers: [("content-type", "application/octet-stream")], body: data)
            } catch {
                await fail(status(of: error), error.message)
            }
        case "POST":
            let contentType = request.header("content-type") ?? ""
            var files: [(path: String, data: Data)] = []
            if contentType.lowercased().hasPrefix("multipart/form-data") {
                guard let parts = FakeNovitaMultipart.parse(request.body, contentType: contentType) else {
                    await fail(400, "malformed multipart body")
                    return
                }
                let fileParts = parts.filter { $0.name == "file" }
                guard !fileParts.isEmpty else {
                    await fail(400, "no file part")
                    return
                }
                for part in fileParts {
                    let target = fileParts.count == 1 ? (request.query["path"] ?? part.filename) : part.filename
                    guard let target, !target.isEmpty else {
                        await fail(400, "no target path for an uploaded part")
                        return
                    }
                    files.append((target, part.data))
                }
                let resolved = files.map { fs.sandboxPath($0.path) }
                guard Set(resolved).count == resolved.count else {
                    await fail(400, "several parts target the same path")
                    return
                }
            } else {
                guard let path = request.query["path"], !path.isEmpty else {
                    await fail(400, "path is required for an octet-stream upload")
                    return
                }
                files.append((path, request.body))
            }
            var written: [[String: Any]] = []
            for file in files {
                do {
                    try fs.write(file.path, file.data)
                } catch {
                    await fail(status(of: error), error.message)
                    return
                }
                let path = fs.sandboxPath(file.path)
                written.append(["path": path, "name": (path as NSString).lastPathComponent, "type": "file"])
            }
            try? await writer.respondJSON(status: 200, written)
        default:
            await fail(405, "method not allowed")
        }
    }

    // MARK: - Unary RPCs

    private func handleUnary(_ request: HTTPRequest, _ writer: HTTPResponseWriter, _ record: SandboxRecord) async {
        func fail(_ code: String, _ message: String) async {
            try? await writer.respondJSON(status: Self.httpStatus(forConnectCode: code), ["code": code, "message": message])
        }
        guard request.method == "POST" else {
            await fail("unimplemented", "\(request.method) \(request.path) is not an RPC")
            return
        }
        guard (request.header("content-type") ?? "").lowercased().hasPrefix("application/json") else {
            try? await writer.respond(status: 415, headers: [("accept-post", "application/json")])
            return
        }
        guard let message = (try? JSONSerialization.jsonObject(with: request.body.isEmpty ? Data("{}".utf8) : request.body)) as? [String: Any] else {
            await fail("invalid_argument", "request is not a JSON object")
            return
        }
        let fs = record.fileSystem
        func reply(_ object: [String: Any]) async {
            try? await writer.respondJSON(status: 200, object)
        }
        func process() -> FakeNovitaProcess? {
            guard let selector = message["process"] as? [String: Any], let pid = Self.integer(selector["pid"]) else { return nil }
            guard let found = state.withLock({ $0.sandboxes[record.id]?.processes[UInt32(clamping: pid)] }), !found.isFinished else { return nil }
            return found
        }
        do throws(FakeNovitaFileSystem.Failure) {
            switch request.path {
            case "/filesystem.Filesystem/Stat":
                await reply(["entry": try fs.entry(message["path"] as? String ?? "")])
            case "/filesystem.Filesystem/MakeDir":
                await reply(["entry": try fs.makeDirectory(message["path"] as? String ?? "")])
            case "/filesystem.Filesystem/Move":
                await reply(["entry": try fs.move(message["source"] as? String ?? "", message["destination"] as? String ?? "")])
            case "/filesystem.Filesystem/ListDir":
                let depth = Self.integer(message["depth"]) ?? 1
                await reply(["entries": try fs.list(message["path"] as? String ?? "", depth: Int(depth))])
            case "/filesystem.Filesystem/Remove":
                try fs.remove(message["path"] as? String ?? "")
                await reply([:])
            case "/process.Process/List":
                let processes = state.withLock { $0.sandboxes[record.id]?.processes.values.filter { !$0.isFinished } ?? [] }
                await reply(["processes": processes.map { process -> [String: Any] in
                    ["pid": Int(process.pid), "config": ["cmd": process.config.cmd, "args": process.config.args, "envs": process.config.envs, "cwd": process.config.cwd]]
                }])
            case "/process.Process/SendInput":
                guard let target = process() else { throw .init(code: "not_found", message: "process not found") }
                let input = message["input"] as? [String: Any]
                guard let text = (input?["stdin"] ?? input?["pty"]) as? String, let data = Data(base64Encoded: text) else {
                    throw .init(code: "invalid_argument", message: "input.stdin must be base64")
                }
                do {
                    try target.write(data)
                } catch {
                    throw .init(code: "failed_precondition", message: "stdin is not open: \(error)")
                }
                await reply([:])
            case "/process.Process/CloseStdin":
                guard let target = process() else { throw .init(code: "not_found", message: "process not found") }
                do {
                    try target.closeStdin()
                } catch {
                    throw .init(code: "failed_precondition", message: "stdin is not open")
                }
                await reply([:])
            case "/process.Process/SendSignal":
                guard let target = process() else { throw .init(code: "not_found", message: "process not found") }
                let number: Int32
                switch message["signal"] {
                case let name as String where name == "SIGNAL_SIGKILL": number = SIGKILL
                case let name as String where name == "SIGNAL_SIGTERM": number = SIGTERM
                case let value as NSNumber where value.intValue == 9 || value.intValue == 15: number = value.int32Value
                default: throw .init(code: "invalid_argument", message: "unsupported signal")
                }
                target.signal(number)
                await reply([:])
            default:
                throw .init(code: "unimplemented", message: "\(request.path) is not implemented by the fake")
            }
        } catch {
            await fail(error.code, error.message)
        }
    }

    static func integer(_ value: Any?) -> Int64? {
        if let number = value as? NSNumber { return number.int64Value }
        if let text = value as? String { return Int64(text) }
        return nil
    }

    // MARK: - Streaming RPCs

    /// Decodes the one enveloped message of a streaming request.
    private static func streamRequest(_ request: HTTPRequest) -> [String: Any]? {
        let body = request.body
        guard body.count >= 5 else { return nil }
        let bytes = [UInt8](body.prefix(5))
        let length = Int(bytes[1]) << 24 | Int(bytes[2]) << 16 | Int(bytes[3]) << 8 | Int(bytes[4])
        guard bytes[0] & 0x01 == 0, body.count == 5 + length else { return nil }
        return (try? JSONSerialization.jsonObject(with: body.dropFirst(5))) as? [String: Any]
    }

    private func startProcess(_ request: HTTPRequest, _ writer: HTTPResponseWriter, _ record: SandboxRecord) async {
        guard (request.header("content-type") ?? "").lowercased().hasPrefix("application/connect+json") else {
            try? await writer.respond(status: 415, headers: [("accept-post", "application/connect+json")])
            return
        }
        let stream = FakeNovitaStreamWriter(writer: writer, splitsEnvelopes: options.splitsEnvelopes, cutAfter: takeStreamCut())
        guard let message = Self.streamRequest(request), let config = message["process"] as? [String: Any], let cmd = config["cmd"] as? String else {
            await stream.fail("invalid_argument", "request must be an enveloped StartRequest with process.cmd")
            return
        }
        let fs = record.fileSystem
        let cwd = fs.sandboxPath((config["cwd"] as? String) ?? FakeNovitaFileSystem.home)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: fs.hostURL(cwd).path, isDirectory: &isDirectory), isDirectory.boolValue else {
            await stream.fail("invalid_argument", "cwd '\(cwd)' does not exist")
            return
        }
        let args = (config["args"] as? [Any])?.compactMap { $0 as? String } ?? []
        let envs = Self.stringMap(config["envs"]) ?? [:]
        var environment = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": bubblewrap == nil ? fs.hostURL(FakeNovitaFileSystem.home).path : FakeNovitaFileSystem.home,
            "USER": "user",
            "LANG": "C.UTF-8",
        ]
        if !options.templateTools.isEmpty {
            let bin = bubblewrap == nil ? try? FakeNovitaProcess.templateFolder(record.root, tools: options.templateTools) : FakeNovitaProcess.templateBin
            if let bin { environment["PATH"] = bin + ":" + environment["PATH"]! }
        }
        environment.merge(record.envVars) { _, new in new }
        environment.merge(envs) { _, new in new }
        // envd keeps a stdin pipe when the flag is absent (older clients).
        let wantsStdin = (message["stdin"] as? Bool) ?? true
        let launched: (FakeNovitaProcess, AsyncStream<FakeNovitaProcess.Event>)
        do {
            launched = try FakeNovitaProcess.launch(
                config: .init(cmd: cmd, args: args, envs: envs, cwd: cwd),
                environment: environment,
                stdin: wantsStdin,
                launcher: .init(bubblewrap: bubblewrap, root: record.root, templateTools: options.templateTools)
            )
        } catch {
            await stream.fail("internal", "failed to start process: \(error)")
            return
        }
        let (process, events) = launched
        let registered: Bool = state.withLock { state in
            guard state.sandboxes[record.id] != nil else { return false }
            state.sandboxes[record.id]?.processes[process.pid] = process
            state.processAttachCount += 1
            return true
        }
        guard registered else {
            process.signal(SIGKILL)
            await stream.fail("unavailable", "sandbox was killed")
            return
        }
        await stream.run(pid: process.pid, events: events, keepalive: keepaliveInterval(request))
    }

    private func connectProcess(_ request: HTTPRequest, _ writer: HTTPResponseWriter, _ record: SandboxRecord) async {
        guard (request.header("content-type") ?? "").lowercased().hasPrefix("application/connect+json") else {
            try? await writer.respond(status: 415, headers: [("accept-post", "application/connect+json")])
            return
        }
        let stream = FakeNovitaStreamWriter(writer: writer, splitsEnvelopes: options.splitsEnvelopes, cutAfter: takeStreamCut())
        guard let message = Self.streamRequest(request), let selector = message["process"] as? [String: Any], let pid = Self.integer(selector["pid"]) else {
            await stream.fail("invalid_argument", "request must be an enveloped ConnectRequest with process.pid")
            return
        }
        let process = state.withLock { $0.sandboxes[record.id]?.processes[UInt32(clamping: pid)] }
        guard let process, let events = process.attach() else {
            await stream.fail("not_found", "process with pid \(pid) not found")
            return
        }
        state.withLock { $0.processAttachCount += 1 }
        await stream.run(pid: process.pid, events: events, keepalive: keepaliveInterval(request))
    }

    private func keepaliveInterval(_ request: HTTPRequest) -> Duration {
        if let interval = options.keepaliveInterval { return interval }
        if let header = request.header("Keepalive-Ping-Interval"), let seconds = Int(header), seconds > 0 {
            return .seconds(seconds)
        }
        return .seconds(90)
    }

    private func takeStreamCut() -> Int? {
        state.withLock { state in
            guard !state.streamCuts.isEmpty else { return nil }
            state.streamCuts[0].remaining -= 1
            let after = state.streamCuts[0].afterEvents
            if state.streamCuts[0].remaining <= 0 { state.streamCuts.removeFirst() }
            return after
        }
    }
}

import Foundation
import SandboxClient
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The logic and state behind ``FakeNovitaService``: REST control plane and envd in one place.
final class FakeNovitaBackend: Sendable {
    /// A live (running or paused) fake sandbox.
    struct SandboxRecord: Sendable {
        let id: String
        let templateID: String
        let accessToken: String
        let secure: Bool
        let allowInternetAccess: Bool
        let root: URL
        var metadata: [String: String]
        var envVars: [String: String]
        let startedAt: Date
        var expiresAt: Date
        var paused = false
        var processes: [UInt32: FakeNovitaProcess] = [:]

        var fileSystem: FakeNovitaFileSystem { FakeNovitaFileSystem(root: root) }
    }

    struct FaultRule: Sendable {
        var path: String
        /// `path` is matched as the end of the request's path (any sandbox's `/pause`, say).
        var suffix = false
        var method: String?
        var remaining: Int
        var fault: FakeNovitaFault
    }

    struct State: Sendable {
        var sandboxes: [String: SandboxRecord] = [:]
        /// Ids that existed once (killed or expired), to tell "gone" from "never existed".
        var deadIDs: Set<String> = []
        var log: [FakeNovitaRequestRecord] = []
        var faults: [FaultRule] = []
        var streamCuts: [(afterEvents: Int, remaining: Int)] = []
        var processAttachCount = 0
    }

    let options: FakeNovitaService.Options
    let workFolder: URL
    let bubblewrap: String?
    let state = Mutex(State())

    init(options: FakeNovitaService.Options) {
        self.options = options
        self.workFolder = FileManager.default.temporaryDirectory
            .appendingPathComponent("fake-novita-\(UUID().uuidString.prefix(8))", isDirectory: true)
        self.bubblewrap = options.useBubblewrap ? Self.probeBubblewrap() : nil
    }

    /// `/usr/bin/bwrap` when it can create the mounts the fake needs.
    private static func probeBubblewrap() -> String? {
        let path = "/usr/bin/bwrap"
        guard FileManager.default.isExecutableFile(atPath: path), FileManager.default.fileExists(atPath: "/home") else { return nil }
        guard let probe = try? HostProcess.start(path, ["--dev-bind", "/", "/", "--tmpfs", "/home", "--unshare-pid", "--die-with-parent", "--", "/bin/true"],
                                                 environment: ["PATH": "/usr/bin:/bin"]) else { return nil }
        return probe.waitBlocking(timeout: .seconds(30)).status == 0 ? path : nil
    }

    // MARK: - Entry point

    func handle(_ request: HTTPRequest, _ writer: HTTPResponseWriter) async {
        reap()
        let record = FakeNovitaRequestRecord(method: request.method, path: request.path, uri: request.uri, headers: request.headers, body: request.body, receivedAt: Date())
        state.withLock { $0.log.append(record) }
        if let fault = takeFault(path: request.path, method: request.method) {
            switch fault {
            case .dropConnection:
                await writer.abort()
            case .status(let status, let retryAfter):
                var headers: [(String, String)] = []
                if let retryAfter { headers.append(("Retry-After", String(retryAfter))) }
                try? await writer.respondJSON(status: status, ["code": status, "message": "injected fault: HTTP \(status)"], headers: headers)
            }
            return
        }
        if request.path == "/sandboxes" || request.path.hasPrefix("/sandboxes/") || request.path.hasPrefix("/v2/sandboxes") {
            await handleREST(request, writer)
        } else {
            await handleEnvd(request, writer)
        }
    }

    private func takeFault(path: String, method: String) -> FakeNovitaFault? {
        state.withLock { state in
            guard let index = state.faults.firstIndex(where: { ($0.path == path || ($0.suffix && path.hasSuffix($0.path))) && ($0.method == nil || $0.method == method) && $0.remaining > 0 }) else {
                return nil
            }
            state.faults[index].remaining -= 1
            let fault = state.faults[index].fault
            if state.faults[index].remaining == 0 { state.faults.remove(at: index) }
            return fault
        }
    }

    // MARK: - Lifetimes

    /// Kills sandboxes whose lifetime is over.
    func reap() {
        let now = Date()
        let expired: [SandboxRecord] = state.withLock { state in
            let ids = state.sandboxes.values.filter { !$0.paused && $0.expiresAt <= now }.map(\.id)
            return ids.compactMap { id in
                state.deadIDs.insert(id)
                return state.sandboxes.removeValue(forKey: id)
            }
        }
        for record in expired { destroy(record) }
    }

    /// Kills every process of a removed sandbox and deletes its folder.
    func destroy(_ record: SandboxRecord) {
        for process in record.processes.values { process.signal(SIGKILL) }
        try? FileManager.default.removeItem(at: record.root)
    }

    /// Kills everything (when the service stops).
    func destroyAll() {
        let all: [SandboxRecord] = state.withLock { state in
            let all = Array(state.sandboxes.values)
            for record in all { state.deadIDs.insert(record.id) }
            state.sandboxes = [:]
            return all
        }
        for record in all { destroy(record) }
        try? FileManager.default.removeItem(at: workFolder)
    }

    // MARK: - REST

    private func handleREST(_ request: HTTPRequest, _ writer: HTTPResponseWriter) async {
        guard request.header("X-API-KEY") == options.apiKey else {
            let provided = request.header("X-API-KEY") ?? ""
            let message = options.echoesCredentialsInErrors ? "Invalid API key: \(provided)" : "Invalid API key"
            await respondError(writer, 401, message)
            return
        }
        let parts = request.path.split(separator: "/").map(String.init)
        switch (request.method, parts.count) {
        case ("POST", 1) where parts[0] == "sandboxes":
            await createSandbox(request, writer)
        case ("GET", 2) where parts == ["v2", "sandboxes"]:
            await listSandboxes(request, writer)
        case ("GET", 2) where parts[0] == "sandboxes":
            await getSandbox(parts[1], writer)
        case ("DELETE", 2) where parts[0] == "sandboxes":
            await killSandbox(parts[1], writer)
        case ("POST", 3) where parts[0] == "sandboxes" && parts[2] == "timeout":
            await setTimeout(parts[1], request, writer)
        case ("POST", 3) where parts[0] == "sandboxes" && parts[2] == "connect":
            await connectSandbox(parts[1], request, writer)
        case ("POST", 3) where parts[0] == "sandboxes" && parts[2] == "pause":
            await pauseSandbox(parts[1], writer)
        default:
            await respondError(writer, 404, "no route for \(request.method) \(request.path)")
        }
    }

    private func respondError(_ writer: HTTPResponseWriter, _ status: Int, _ message: String) async {
        try? await writer.respondJSON(status: status, ["code": status, "message": message])
    }

    private func createSandbox(_ request: HTTPRequest, _ writer: HTTPResponseWriter) async {
        guard let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any] else {
            await respondError(writer, 400, "request body is not a JSON object")
            return
        }
        guard let templateID = body["templateID"] as? String, !templateID.isEmpty else {
            await respondError(writer, 400, "templateID is required")
            return
        }
        let timeout = (body["timeout"] as? NSNumber)?.intValue ?? 15
        guard timeout >= 0 else {
            await respondError(writer, 400, "timeout must be >= 0")
            return
        }
        guard let metadata = Self.stringMap(body["metadata"]), let envVars = Self.stringMap(body["envVars"]) else {
            await respondError(writer, 400, "metadata and envVars must map strings to strings")
            return
        }
        let limitReached: Bool = state.withLock { state in
            options.maximumSandboxes.map { state.sandboxes.count >= $0 } ?? false
        }
        if limitReached {
            await respondError(writer, 429, "concurrent sandbox limit reached")
            return
        }
        let id = "i" + Self.randomToken(length: 19)
        let root = workFolder.appendingPathComponent(id, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("home/user"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        } catch {
            await respondError(writer, 500, "cannot create sandbox folder: \(error)")
            return
        }
        let now = Date()
        let record = SandboxRecord(
            id: id,
            templateID: templateID,
            accessToken: "ea_" + Self.randomToken(length: 32),
            secure: (body["secure"] as? Bool) ?? false,
            allowInternetAccess: (body["allow_internet_access"] as? Bool) ?? true,
            root: root,
            metadata: metadata,
            envVars: envVars,
            startedAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(timeout))
        )
        state.withLock { $0.sandboxes[id] = record }
        try? await writer.respondJSON(status: 201, sandboxObject(record))
    }

    private func sandboxObject(_ record: SandboxRecord) -> [String: Any] {
        var object: [String: Any] = [
            "sandboxID": record.id,
            "templateID": record.templateID,
            "alias": record.templateID,
            "clientID": "fakeclient",
            "envdVersion": options.envdVersion,
            "domain": NSNull(),
            "trafficAccessToken": NSNull(),
        ]
        if record.secure { object["envdAccessToken"] = record.accessToken }
        return object
    }

    private func listedObject(_ record: SandboxRecord, detail: Bool) -> [String: Any] {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var object: [String: Any] = [
            "sandboxID": record.id,
            "templateID": record.templateID,
            "alias": record.templateID,
            "clientID": "fakeclient",
            "startedAt": record.startedAt.formatted(style),
            "endAt": record.expiresAt.formatted(style),
            "cpuCount": 2,
            "memoryMB": 512,
            "diskSizeMB": 1024,
            "state": record.paused ? "paused" : "running",
            "envdVersion": options.envdVersion,
            "metadata": record.metadata,
        ]
        if detail {
            object["domain"] = NSNull()
            object["allowInternetAccess"] = record.allowInternetAccess
            object["lifecycle"] = ["onTimeout": "kill", "autoResume": false]
            if record.secure { object["envdAccessToken"] = record.accessToken }
        }
        return object
    }

    private func getSandbox(_ id: String, _ writer: HTTPResponseWriter) async {
        guard let record = state.withLock({ $0.sandboxes[id] }) else {
            await respondError(writer, 404, "sandbox \(id) not found")
            return
        }
        try? await writer.respondJSON(status: 200, listedObject(record, detail: true))
    }

    private func listSandboxes(_ request: HTTPRequest, _ writer: HTTPResponseWriter) async {
        var filter: [String: String] = [:]
        if let raw = request.query["metadata"], !raw.isEmpty {
            // The value was decoded once with the query; pairs are form-encoded, and each key and
            // value was percent-encoded once more by the SDK before that (reference §3.4).
            for pair in raw.split(separator: "&") {
                let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard halves.count == 2 else {
                    await respondError(writer, 400, "invalid metadata filter")
                    return
                }
                filter[Self.formDecode(String(halves[0]))] = Self.formDecode(String(halves[1]))
            }
        }
        var states: Set<String> = ["running", "paused"]
        if let raw = request.query["state"], !raw.isEmpty {
            states = Set(raw.split(separator: ",").map(String.init))
            guard states.isSubset(of: ["running", "paused"]) else {
                await respondError(writer, 400, "invalid state filter")
                return
            }
        }
        var limit = options.defaultListLimit
        if let raw = request.query["limit"] {
            guard let value = Int(raw), (1...100).contains(value) else {
                await respondError(writer, 400, "limit must be between 1 and 100")
                return
            }
            limit = value
        }
        var offset = 0
        if let token = request.query["nextToken"], !token.isEmpty {
            guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
                  text.hasPrefix("offset:"), let value = Int(text.dropFirst(7)) else {
                await respondError(writer, 400, "invalid nextToken")
                return
            }
            offset = value
        }
        let matching = state.withLock { state in
            state.sandboxes.values
                .filter { states.contains($0.paused ? "paused" : "running") }
                .filter { record in filter.allSatisfy { record.metadata[$0.key] == $0.value } }
                .sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }
        }
        let page = Array(matching.dropFirst(offset).prefix(limit))
        var headers: [(String, String)] = []
        if offset + page.count < matching.count {
            headers.append(("x-next-token", Data("offset:\(offset + page.count)".utf8).base64EncodedString()))
        }
        try? await writer.respondJSON(status: 200, page.map { listedObject($0, detail: false) }, headers: headers)
    }

    private func killSandbox(_ id: String, _ writer: HTTPResponseWriter) async {
        let removed: SandboxRecord? = state.withLock { state in
            guard let record = state.sandboxes.removeValue(forKey: id) else { return nil }
            state.deadIDs.insert(id)
            return record
        }
        guard let removed else {
            await respondError(writer, 404, "sandbox \(id) not found")
            return
        }
        destroy(removed)
        try? await writer.respond(status: 204)
    }

    private func setTimeout(_ id: String, _ request: HTTPRequest, _ writer: HTTPResponseWriter) async {
        guard let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any],
              let timeout = (body["timeout"] as? NSNumber)?.intValue, timeout >= 0 else {
            await respondError(writer, 400, "body must be {\"timeout\": seconds}")
            return
        }
        let found: Bool = state.withLock { state in
            guard state.sandboxes[id] != nil else { return false }
            state.sandboxes[id]?.expiresAt = Date().addingTimeInterval(TimeInterval(timeout))
            return true
        }
        if found {
            try? await writer.respond(status: 204)
        } else {
            await respondError(writer, 404, "sandbox \(id) not found")
        }
    }

    private func connectSandbox(_ id: String, _ request: HTTPRequest, _ writer: HTTPResponseWriter) async {
        guard let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any],
              let timeout = (body["timeout"] as? NSNumber)?.intValue, timeout >= 0 else {
            await respondError(writer, 400, "body must contain \"timeout\"")
            return
        }
        let result: (SandboxRecord, Bool)? = state.withLock { state in
            guard var record = state.sandboxes[id] else { return nil }
            let wasPaused = record.paused
            let wanted = Date().addingTimeInterval(TimeInterval(timeout))
            if wasPaused || wanted > record.expiresAt { record.expiresAt = wanted }
            record.paused = false
            state.sandboxes[id] = record
            return (record, wasPaused)
        }
        guard let (record, resumed) = result else {
            await respondError(writer, 404, "paused sandbox \(id) not found")
            return
        }
        if resumed {
            for process in record.processes.values { process.signal(SIGCONT) }
        }
        try? await writer.respondJSON(status: resumed ? 201 : 200, sandboxObject(record))
    }

    private func pauseSandbox(_ id: String, _ writer: HTTPResponseWriter) async {
        let result: (SandboxRecord, Bool)? = state.withLock { state in
            guard let record = state.sandboxes[id] else { return nil }
            let already = record.paused
            state.sandboxes[id]?.paused = true
            return (record, already)
        }
        guard let (record, already) = result else {
            await respondError(writer, 404, "sandbox \(id) not found")
            return
        }
        if already {
            await respondError(writer, 409, "sandbox \(id) is already paused")
            return
        }
        for process in record.processes.values { process.signal(SIGSTOP) }
        try? await writer.respond(status: 204)
    }

    // MARK: - Helpers

    static func stringMap(_ value: Any?) -> [String: String]? {
        guard let value, !(value is NSNull) else { return [:] }
        guard let object = value as? [String: Any] else { return nil }
        var result: [String: String] = [:]
        for (key, item) in object {
            guard let text = item as? String else { return nil }
            result[key] = text
        }
        return result
    }

    /// Form decoding (`+` is a space) followed by one more percent-decoding.
    private static func formDecode(_ text: String) -> String {
        let once = text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
        return once.removingPercentEncoding ?? once
    }

    static func randomToken(length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }
}

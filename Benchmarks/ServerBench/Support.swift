import AsyncHTTPClient
import CATestSupport
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

// Helpers of ca-server-bench: child processes, HTTP, wrk, SSE, the results table.

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The value below which `p` of the values lie (nearest rank).
func percentile(_ xs: [Double], _ p: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s[min(s.count - 1, max(0, Int((p * Double(s.count)).rounded(.up)) - 1))]
}

func ms(_ x: Double) -> String { String(format: "%.1f ms", x) }
func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
func ratio(_ x: Double, _ base: Double) -> String { base > 0 && x.isFinite ? String(format: "%.2fx", x / base) : "n/a" }

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

// MARK: Results table

struct ResultRow {
    var bench: String
    var measure: String
    var value: String
    var baseline: String
    var ratio: String
    var goal: String
}

nonisolated(unsafe) var resultRows: [ResultRow] = []

/// Correctness failures (lost or duplicated events, tasks that did not succeed, followers that
/// missed events, non-2xx answers): any of them makes the program exit with status 1.
nonisolated(unsafe) var problems: [String] = []

func problem(_ text: String) {
    problems.append(text)
    print("  FAILURE: \(text)")
}

func record(_ bench: String, _ measure: String, _ value: String, baseline: String, ratio: String, goal: String = "") {
    resultRows.append(ResultRow(bench: bench, measure: measure, value: value, baseline: baseline, ratio: ratio, goal: goal))
}

func printTable() {
    let headers = ResultRow(bench: "benchmark", measure: "measure", value: "value", baseline: "baseline (same run)", ratio: "ratio", goal: "goal")
    let rows = [headers] + resultRows
    func width(_ key: KeyPath<ResultRow, String>) -> Int { rows.map { $0[keyPath: key].count }.max() ?? 0 }
    let widths = [width(\.bench), width(\.measure), width(\.value), width(\.baseline), width(\.ratio), width(\.goal)]
    func line(_ r: ResultRow) -> String {
        zip([r.bench, r.measure, r.value, r.baseline, r.ratio, r.goal], widths)
            .map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: " | ")
    }
    print(line(headers))
    print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "-+-"))
    for row in resultRows { print(line(row)) }
}

// MARK: Child processes

/// Runs a program to its end (posix_spawn, waited for on a thread of its own): exit status, stdout, stderr.
func runProgram(_ path: String, _ args: [String], env: [String: String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await BlockingWork.run {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ca-server-bench-run-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out").path, err = folder.appendingPathComponent("err").path
        let pid = try spawn(path, args, env: env, stdoutPath: out, stderrPath: err)
        let status = waitForExit(pid)
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}

/// Starts a program with posix_spawn, stdin /dev/null, stdout and stderr into files.
func spawn(_ path: String, _ args: [String], env: [String: String], stdoutPath: String, stderrPath: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var argv = ([path] + args).map { strdup($0) } + [nil]
    var envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in argv + envp where p != nil { free(p) } }
    var pid = pid_t()
    let code = posix_spawn(&pid, path, &actions, nil, &argv, &envp)
    guard code == 0 else { throw BenchFailure("cannot start \(path): error \(code)") }
    return pid
}

/// Blocks until `pid` ends; its exit status (128 + signal when killed).
func waitForExit(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
}

/// A server started by the benchmark as a child process (`ca serve` or the bare Hummingbird
/// server), on 127.0.0.1, found listening through its "serving on http://127.0.0.1:PORT" line.
final class ServerProcess: @unchecked Sendable {
    let name: String
    let pid: pid_t
    let port: Int
    let stdoutPath: String
    let stderrPath: String
    private let lock = NSLock()
    private var exited: Int32?

    private init(name: String, pid: pid_t, port: Int, stdoutPath: String, stderrPath: String) {
        self.name = name; self.pid = pid; self.port = port; self.stdoutPath = stdoutPath; self.stderrPath = stderrPath
    }

    /// Every server started and not yet stopped (stopped on the way out, even after a failure).
    nonisolated(unsafe) static var live: [ServerProcess] = []

    static func start(name: String, _ path: String, _ args: [String], env: [String: String], logFolder: URL,
                      timeout: Duration = .seconds(30)) async throws -> ServerProcess {
        try FileManager.default.createDirectory(at: logFolder, withIntermediateDirectories: true)
        let out = logFolder.appendingPathComponent("\(name).stdout").path, err = logFolder.appendingPathComponent("\(name).stderr").path
        let pid = try spawn(path, args, env: env, stdoutPath: out, stderrPath: err)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for file in [err, out] {
                if let text = try? String(contentsOfFile: file, encoding: .utf8),
                   let range = text.range(of: "serving on http://127.0.0.1:") {
                    let digits = text[range.upperBound...].prefix { $0.isNumber }
                    if let port = Int(digits), port > 0 {
                        let server = ServerProcess(name: name, pid: pid, port: port, stdoutPath: out, stderrPath: err)
                        live.append(server)
                        return server
                    }
                }
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let tail = ((try? String(contentsOfFile: err, encoding: .utf8)) ?? "").suffix(2000)
                throw BenchFailure("\(name) exited (status \(status)) before listening: \(tail)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(pid, SIGKILL)
        _ = waitForExit(pid)
        throw BenchFailure("\(name) did not report a port within \(timeout)")
    }

    /// A field of /proc/PID/status in bytes (VmHWM: the process's own peak resident set size).
    func statusField(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kilobytes = Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") else { return nil }
        return kilobytes * 1024
    }

    var peakResident: Int? { statusField("VmHWM") }

    /// SIGTERM (graceful shutdown), then SIGKILL after `grace`. Returns the exit status.
    @discardableResult
    func stop(grace: Duration = .seconds(40)) async -> Int32 {
        if let done = lock.withLock({ exited }) { return done }
        kill(pid, SIGTERM)
        let pid = self.pid
        let status = (try? await BlockingWork.run { () -> Int32 in
            let deadline = ContinuousClock.now + grace
            var status: Int32 = 0
            while true {
                let reaped = waitpid(pid, &status, WNOHANG)
                if reaped == pid { break }
                if reaped < 0 && errno != EINTR { return -1 }
                if ContinuousClock.now >= deadline { kill(pid, SIGKILL) }
                usleep(5_000)
            }
            return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        }) ?? -1
        lock.withLock { exited = status }
        ServerProcess.live.removeAll { $0 === self }
        return status
    }
}

/// Samples a server's VmHWM every 20 ms until stopped; `peak` is the largest seen.
final class PeakSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var _peak = 0
    private var running = true
    var peak: Int { lock.withLock { _peak } }

    init(_ server: ServerProcess) {
        let thread = Thread { [self] in
            while self.lock.withLock({ self.running }) {
                if let value = server.peakResident { self.lock.withLock { self._peak = max(self._peak, value) } }
                usleep(20_000)
            }
        }
        thread.stackSize = 256 << 10
        thread.start()
    }

    func stop() { lock.withLock { running = false } }
}

// MARK: HTTP

struct HTTPResult: @unchecked Sendable {
    var status: Int
    var body: Data
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// One HTTP client for the whole run, with room for hundreds of connections to one host.
let client: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
    configuration.timeout = .init(connect: .seconds(10))
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

func request(_ method: String, port: Int, _ path: String, key: String?, json: Any? = nil, jsonData: Data? = nil,
             headers: [(String, String)] = [], timeout: TimeAmount = .seconds(120)) async throws -> HTTPResult {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = .init(rawValue: method)
    if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let data = try jsonData ?? json.map({ try JSONSerialization.data(withJSONObject: $0) }) {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: data))
    }
    let response = try await client.execute(request, timeout: timeout)
    let body = try await response.body.collect(upTo: 64 << 20)
    return HTTPResult(status: Int(response.status.code), body: Data(buffer: body))
}

nonisolated(unsafe) let isoFormatter: ISO8601DateFormatter = {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f
}()

func date(_ value: Any?) -> Date? {
    guard let text = value as? String else { return nil }
    return isoFormatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
}

let terminalStatuses: Set<String> = ["succeeded", "failed", "cancelled", "timed_out", "stopped"]
func isTerminal(_ task: [String: Any]) -> Bool {
    guard let status = task["status"] as? String else { return false }
    return !["queued", "running"].contains(status)
}

/// Polls GET /v1/tasks/{id} until the task ended.
func waitForEnd(port: Int, id: String, key: String, every interval: Duration = .milliseconds(20),
                timeout: Duration = .seconds(120)) async throws -> [String: Any] {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let task = try await request("GET", port: port, "/v1/tasks/\(id)", key: key).json
        if isTerminal(task) { return task }
        try await Task.sleep(for: interval)
    }
    throw BenchFailure("task \(id) did not end within \(timeout)")
}

/// All events of a task from the JSON page (GET /v1/tasks/{id}/logs), following next_after.
func eventPage(port: Int, id: String, key: String) async throws -> [[String: Any]] {
    var events: [[String: Any]] = []
    var after = 0
    for _ in 0..<100 {
        let page = try await request("GET", port: port, "/v1/tasks/\(id)/logs?limit=1000&after=\(after)", key: key)
        guard page.status == 200 else { throw BenchFailure("logs of \(id): HTTP \(page.status) \(page.text.prefix(300))") }
        let json = page.json
        let batch = json["events"] as? [[String: Any]] ?? []
        events += batch
        after = (json["next_after"] as? Int) ?? after
        if (json["done"] as? Bool) == true || batch.isEmpty { break }
    }
    return events
}

/// `ca keys create NAME --json` against a CA_HOME.
func createKey(ca: String, name: String, env: [String: String]) async throws -> String {
    let result = try await runProgram(ca, ["keys", "create", name, "--json"], env: env)
    guard result.status == 0, let data = result.stdout.data(using: .utf8),
          let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let key = json["key"] as? String else {
        throw BenchFailure("ca keys create \(name) failed (\(result.status)): \(result.stderr.prefix(500)) \(result.stdout.prefix(500))")
    }
    return key
}

// MARK: wrk

struct WrkResult {
    var requestsPerSecond: Double
    var p50: Double
    var p99: Double
    var requests: Int
    var bad: Int
    var socketErrors: String?
}

/// A wrk latency figure ("449.00us", "4.35ms", "1.02s") in ms.
func wrkMilliseconds(_ text: Substring) -> Double? {
    for (unit, factor) in [("us", 0.001), ("ms", 1.0), ("m", 60_000.0), ("s", 1000.0)] where text.hasSuffix(unit) {
        if let value = Double(text.dropLast(unit.count)) { return value * factor }
    }
    return nil
}

func runWrk(url: String, key: String?, seconds: Int, threads: Int = 2, connections: Int = 32, scratch: URL) async throws -> WrkResult {
    var args = ["-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--latency", "--timeout", "5s"]
    if let key {
        // The key goes to wrk in a script file (mode 0600), never in argv (visible in ps).
        let script = scratch.appendingPathComponent("wrk-auth.lua")
        let text = "wrk.headers[\"Authorization\"] = \"Bearer \(key)\"\n"
        guard FileManager.default.createFile(atPath: script.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw BenchFailure("cannot write \(script.path)")
        }
        args += ["-s", script.path]
    }
    args.append(url)
    let result = try await runProgram(wrkPath, args, env: ["PATH": "/usr/bin:/bin"])
    guard result.status == 0 else { throw BenchFailure("wrk failed (\(result.status)): \(result.stderr) \(result.stdout)") }
    let lines = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    func field(_ prefix: String) -> [Substring]? {
        lines.first { $0.hasPrefix(prefix) }.map { $0.dropFirst(prefix.count).split(separator: " ", omittingEmptySubsequences: true) }
    }
    guard let rps = field("Requests/sec:")?.first.flatMap({ Double($0) }),
          let p50 = field("50%")?.first.flatMap(wrkMilliseconds),
          let p99 = field("99%")?.first.flatMap(wrkMilliseconds) else {
        throw BenchFailure("cannot read wrk's output:\n\(result.stdout)")
    }
    let requests = lines.first { $0.contains(" requests in ") }.flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
    let bad = field("Non-2xx or 3xx responses:")?.first.flatMap { Int($0) } ?? 0
    let socketErrors = lines.first { $0.hasPrefix("Socket errors:") }
    return WrkResult(requestsPerSecond: rps, p50: p50, p99: p99, requests: requests, bad: bad, socketErrors: socketErrors)
}

let wrkPath = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/wrk"

// MARK: SSE

/// What one follower of GET /v1/tasks/{id}/logs (text/event-stream) received.
struct FollowResult: Sendable {
    var ids: [Int] = []
    var dataSeqMismatches = 0
    var sawEnd = false
    var endStatus: String?
    var endAt: Date?
    var connectedAt: Date?
    var error: String?
}

/// Follows a task's SSE stream to its `end` event (or an error / the deadline).
func follow(port: Int, id: String, key: String, timeout: TimeAmount = .seconds(120)) async -> FollowResult {
    var result = FollowResult()
    do {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/tasks/\(id)/logs")
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await client.execute(request, timeout: timeout)
        result.connectedAt = Date()
        guard response.status == .ok else {
            result.error = "HTTP \(response.status.code)"
            return result
        }
        var pending: [UInt8] = []
        var frameID: Int?, frameEvent = "", frameData: [UInt8] = []
        streaming: for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                let line = pending[start..<newline]
                start = newline + 1
                if line.isEmpty {
                    // End of a frame.
                    if frameEvent == "end" {
                        result.sawEnd = true
                        result.endAt = Date()
                        let task = (try? JSONSerialization.jsonObject(with: Data(frameData))) as? [String: Any]
                        result.endStatus = task?["status"] as? String
                        break streaming
                    }
                    if let frameID {
                        result.ids.append(frameID)
                        let event = (try? JSONSerialization.jsonObject(with: Data(frameData))) as? [String: Any]
                        if (event?["seq"] as? Int) != frameID { result.dataSeqMismatches += 1 }
                    }
                    frameID = nil; frameEvent = ""; frameData = []
                } else if line.first == UInt8(ascii: ":") {
                    continue // comment (keep-alive)
                } else if line.starts(with: Array("id: ".utf8)) {
                    frameID = Int(String(decoding: line.dropFirst(4), as: UTF8.self))
                } else if line.starts(with: Array("event: ".utf8)) {
                    frameEvent = String(decoding: line.dropFirst(7), as: UTF8.self)
                } else if line.starts(with: Array("data: ".utf8)) {
                    frameData = Array(line.dropFirst(6))
                }
            }
            pending.removeFirst(start)
        }
        if !result.sawEnd { result.error = "stream closed without an end event" }
    } catch {
        result.error = "\(error)"
    }
    return result
}

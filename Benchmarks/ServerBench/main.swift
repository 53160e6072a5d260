import AsyncHTTPClient
import CATestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// ca-server-bench: measures `ca serve` (the HTTP server), each figure against a baseline
// measured in the same run, then prints a table of the results.
//   swift build -c release --static-swift-stdlib --scratch-path .build-release --product ca
//   swift build -c release --static-swift-stdlib --scratch-path .build-release --product ca-server-bench
//   .build-release/release/ca-server-bench [--quick] [--only 1,2,3] [--tasks N] [--followers N] [--events N] [--keep]
// Needs wrk and bubblewrap (apt-get install -y wrk bubblewrap). Every server is a child process on
// 127.0.0.1 with a port of its own choosing; nothing else is ever a target.
//
//   1. GET /v1/tasks/{id} throughput (wrk) of `ca serve` against a bare Hummingbird 2 route
//      (this program with --bare-server) serving the same bytes.
//   2. N tasks (default 200) submitted at once to `ca serve --allow-local-backend --max-concurrent 4`,
//      run by a stand-in agent; wall time, tasks/s, the server's peak RSS, events lost; against
//      the same task run alone.
//   3. M followers (default 100) of one running task's SSE stream; against one follower.
//
// The agent is a STAND-IN: a shell script (CA_CLAUDE_BIN) that prints valid Claude Code
// stream-json lines and exits 0. These benchmarks measure the server (queue, sandboxes, event
// ingestion, HTTP, SSE), not the agent, so the agent's own time and cost are kept out of them.

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}

if let bodyFile = option("--bare-server") {
    try await runBareServer(bodyFile: bodyFile)
    exit(0)
}

let quick = arguments.contains("--quick")
let keep = arguments.contains("--keep")
let only = Set((option("--only") ?? "1,2,3").split(separator: ",").compactMap { Int($0) })
let taskCount = option("--tasks").flatMap(Int.init) ?? (quick ? 50 : 200)
let followerCount = option("--followers").flatMap(Int.init) ?? 100
let slowEventCount = option("--events").flatMap(Int.init) ?? 200
let wrkSeconds = quick ? 5 : 10
let wrkRounds = quick ? 1 : 2
let wrkWarmUp = quick ? 1 : 2
let aloneRuns = quick ? 1 : 3

let selfBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
let caBinary = CABinary.path
let scratch = URL(fileURLWithPath: "/tmp").appendingPathComponent("ca-server-bench-\(UUID().uuidString.prefix(8).lowercased())")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
_ = chmod(scratch.path, 0o755)
let logs = scratch.appendingPathComponent("logs")

guard FileManager.default.isExecutableFile(atPath: caBinary) else {
    print("ca-server-bench: no ca binary at \(caBinary); build it first (swift build -c release --static-swift-stdlib --scratch-path .build-release --product ca) or set CA_BIN")
    exit(2)
}

/// The environment of a `ca serve`: a minimal one (nothing of this shell's credentials or
/// settings leaks in), its own CA_HOME, plus `extra`.
func serverEnvironment(home: URL, _ extra: [String: String]) -> [String: String] {
    let host = ProcessInfo.processInfo.environment
    var env = ["PATH": host["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOME": host["HOME"] ?? "/root", "LANG": "C.UTF-8", "CA_HOME": home.path]
    env.merge(extra) { _, new in new }
    return env
}

// MARK: 1. GET /v1/tasks/{id} throughput: ca serve against a bare Hummingbird route

func benchGet() async throws {
    let title = "1. GET /v1/tasks/{id}"
    guard FileManager.default.isExecutableFile(atPath: wrkPath) else {
        print("\(title): skipped, wrk is not installed (apt-get install -y wrk)")
        record(title, "skipped", "wrk missing", baseline: "", ratio: "")
        return
    }
    let home = scratch.appendingPathComponent("get-home")
    // The task is accepted, then fails at once: the Novita endpoints are a closed port on 127.0.0.1.
    let env = serverEnvironment(home: home, ["ANTHROPIC_API_KEY": "dummy", "NOVITA_API_KEY": "dummy",
                                             "NOVITA_API_URL": "http://127.0.0.1:9", "NOVITA_SANDBOX_URL": "http://127.0.0.1:9"])
    let key = try await createKey(ca: caBinary, name: "bench", env: env)
    let ca = try await ServerProcess.start(name: "ca-serve-get", caBinary, ["serve", "--port", "0"], env: env, logFolder: logs)
    let created = try await request("POST", port: ca.port, "/v1/tasks", key: key,
                                    json: ["prompt": "x", "repository_url": "https://github.com/org/app.git"])
    guard created.status == 202, let id = created.json["id"] as? String else {
        throw BenchFailure("POST /v1/tasks answered \(created.status): \(created.text.prefix(500))")
    }
    let ended = try await waitForEnd(port: ca.port, id: id, key: key, timeout: .seconds(60))
    let sample = try await request("GET", port: ca.port, "/v1/tasks/\(id)", key: key)
    guard sample.status == 200 else { throw BenchFailure("GET /v1/tasks/\(id) answered \(sample.status)") }
    let bodyFile = scratch.appendingPathComponent("get-body.json")
    try sample.body.write(to: bodyFile)
    let bare = try await ServerProcess.start(name: "bare-hummingbird", selfBinary, ["--bare-server", bodyFile.path],
                                             env: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"], logFolder: logs)
    let bareSample = try await request("GET", port: bare.port, "/v1/tasks/\(id)", key: nil)
    guard bareSample.status == 200, bareSample.body == sample.body else { throw BenchFailure("the bare server does not answer as expected") }

    print("\(title): task \(id) (\(ended["status"] as? String ?? "?")), \(sample.body.count) bytes of JSON from both servers")
    print("  wrk -t2 -c32 -d\(wrkSeconds)s --latency; \(wrkRounds) round(s), alternating, after a \(wrkWarmUp) s warm-up of each; both servers are child processes of this one")
    let caURL = "http://127.0.0.1:\(ca.port)/v1/tasks/\(id)", bareURL = "http://127.0.0.1:\(bare.port)/v1/tasks/\(id)"
    _ = try await runWrk(url: bareURL, key: key, seconds: wrkWarmUp, scratch: scratch)
    _ = try await runWrk(url: caURL, key: key, seconds: wrkWarmUp, scratch: scratch)
    var bareRuns: [WrkResult] = [], caRuns: [WrkResult] = []
    for round in 0..<wrkRounds {
        for target in (round % 2 == 0 ? ["bare", "ca"] : ["ca", "bare"]) {
            // The same header for both: the bare route ignores it, so only the server's work differs.
            let result = try await runWrk(url: target == "ca" ? caURL : bareURL, key: key, seconds: wrkSeconds, scratch: scratch)
            print(String(format: "  round %d %-4@ %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %d requests, %d not 2xx%@",
                         round + 1, target, result.requestsPerSecond, result.p50, result.p99, result.requests, result.bad,
                         result.socketErrors.map { ", " + $0 } ?? ""))
            if target == "ca" { caRuns.append(result) } else { bareRuns.append(result) }
        }
    }
    let caRSS = ca.peakResident ?? 0, bareRSS = bare.peakResident ?? 0
    await ca.stop()
    await bare.stop()
    let caRPS = median(caRuns.map(\.requestsPerSecond)), bareRPS = median(bareRuns.map(\.requestsPerSecond))
    let caP99 = median(caRuns.map(\.p99)), bareP99 = median(bareRuns.map(\.p99))
    let bad = caRuns.map(\.bad).reduce(0, +) + bareRuns.map(\.bad).reduce(0, +)
    print(String(format: "  ca serve %.0f req/s, p99 %.2f ms; bare route %.0f req/s, p99 %.2f ms; ca reaches %.0f%% of the bare route (goal >= 50%%: %@)",
                 caRPS, caP99, bareRPS, bareP99, caRPS / bareRPS * 100, caRPS / bareRPS >= 0.5 ? "met" : "NOT met"))
    print("  peak RSS: ca serve \(mib(caRSS)), bare \(mib(bareRSS))\(bad > 0 ? "; WARNING: \(bad) responses were not 2xx" : "")")
    record(title, "req/s (median of \(wrkRounds))", String(format: "%.0f", caRPS), baseline: String(format: "%.0f bare route", bareRPS),
           ratio: ratio(caRPS, bareRPS), goal: caRPS / bareRPS >= 0.5 ? ">= 0.50x: met" : ">= 0.50x: NOT met")
    record(title, "p99 latency", String(format: "%.2f ms", caP99), baseline: String(format: "%.2f ms bare route", bareP99), ratio: ratio(caP99, bareP99))
    if bad > 0 {
        record(title, "non-2xx responses", "\(bad)", baseline: "0", ratio: "", goal: "0: NOT met")
        problem("GET /v1/tasks/{id}: \(bad) responses under wrk were not 2xx")
    }
}

// MARK: 2. N tasks submitted at once

let quickStandIn = """
    #!/bin/sh
    # Stand-in for Claude Code (ca-server-bench): valid stream-json, no model. The benchmark measures the server, not the agent.
    echo '{"type":"system","subtype":"init","session_id":"s1","model":"stand-in"}'
    echo '{"type":"assistant","message":{"content":[{"type":"text","text":"working"}]},"session_id":"s1"}'
    echo '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"done","session_id":"s1","total_cost_usd":0.01,"usage":{"input_tokens":1,"output_tokens":1}}'

    """

/// What the logs of one task hold against what its stand-in printed.
struct EventCheck {
    var total = 0
    var agent = 0
    var ca = 0
    var other = 0
    var lost = 0
    var extra = 0
    var duplicateSeq = 0
    var outOfOrder = 0
    var gaps = 0

    init(_ events: [[String: Any]], expected: [String: Int]) {
        let seqs = events.compactMap { $0["seq"] as? Int }
        total = events.count
        duplicateSeq = seqs.count - Set(seqs).count + (events.count - seqs.count)
        outOfOrder = zip(seqs, seqs.dropFirst()).filter { $0.0 >= $0.1 }.count
        gaps = zip(seqs, seqs.dropFirst()).map { max(0, $0.1 - $0.0 - 1) }.reduce(0, +) + max(0, (seqs.first ?? 1) - 1)
        var seen: [String: Int] = [:]
        for event in events {
            let type = event["type"] as? String ?? "?"
            if type == "ca" { ca += 1 } else if expected[type] != nil { agent += 1; seen[type, default: 0] += 1 } else { other += 1 }
        }
        for (type, count) in expected {
            lost += max(0, count - seen[type, default: 0])
            extra += max(0, seen[type, default: 0] - count)
        }
    }

    var clean: Bool { lost == 0 && extra == 0 && duplicateSeq == 0 && outOfOrder == 0 && gaps == 0 }
}

func benchSubmit() async throws {
    let title = "2. \(taskCount) tasks at once"
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap") else {
        print("\(title): skipped, bubblewrap is not installed (apt-get install -y bubblewrap)")
        record(title, "skipped", "bwrap missing", baseline: "", ratio: "")
        return
    }
    let home = scratch.appendingPathComponent("submit-home")
    let fixture = try GitFixture.make(in: scratch.appendingPathComponent("submit-git"))
    let standIn = scratch.appendingPathComponent("stand-in-agent.sh").path
    try await ExecutableScript.write(quickStandIn, to: standIn)
    let env = serverEnvironment(home: home, ["ANTHROPIC_API_KEY": "dummy", "CA_CLAUDE_BIN": standIn])
    let aloneKey = try await createKey(ca: caBinary, name: "alone", env: env)
    let loadKey = try await createKey(ca: caBinary, name: "load", env: env)
    let server = try await ServerProcess.start(name: "ca-serve-submit", caBinary,
                                               ["serve", "--port", "0", "--allow-local-backend", "--allow-local-repos", "--max-concurrent", "4"],
                                               env: env, logFolder: logs)
    try await Task.sleep(for: .milliseconds(300))
    let idleRSS = server.peakResident ?? 0
    let sampler = PeakSampler(server)
    let body: [String: Any] = ["prompt": "stand-in task", "repository_url": "file://" + fixture.bare.path, "sandbox": "local"]
    let expected = ["system": 1, "assistant": 1, "result": 1]
    print("\(title): ca serve --allow-local-backend --allow-local-repos --max-concurrent 4; local sandboxes (bubblewrap); stand-in agent (3 stream-json lines, exit 0)")

    // Baseline: the same task alone, end to end (POST sent to finished_at), one after the other.
    var aloneEndToEnd: [Double] = [], aloneRun: [Double] = []
    for _ in 0..<aloneRuns {
        let sent = Date()
        let created = try await request("POST", port: server.port, "/v1/tasks", key: aloneKey, json: body)
        guard created.status == 202, let id = created.json["id"] as? String else {
            throw BenchFailure("POST /v1/tasks answered \(created.status): \(created.text.prefix(500))")
        }
        let task = try await waitForEnd(port: server.port, id: id, key: aloneKey, every: .milliseconds(10))
        guard task["status"] as? String == "succeeded", let finished = date(task["finished_at"]), let started = date(task["started_at"]) else {
            throw BenchFailure("the task alone did not succeed: \(task["status"] ?? "?") \(task["error"] ?? "")")
        }
        let check = EventCheck(try await eventPage(port: server.port, id: id, key: aloneKey), expected: expected)
        aloneEndToEnd.append(finished.timeIntervalSince(sent) * 1000)
        aloneRun.append(finished.timeIntervalSince(started) * 1000)
        print("  alone: \(ms(aloneEndToEnd.last!)) end to end, \(ms(aloneRun.last!)) running; \(check.total) events (\(check.agent) agent, \(check.ca) ca)\(check.clean ? "" : " NOT CLEAN")")
        if !check.clean { problem("the events of task \(id) (alone) are not clean: lost \(check.lost), extra \(check.extra), duplicate seq \(check.duplicateSeq), gaps \(check.gaps)") }
    }

    let aloneRSS = server.peakResident ?? 0

    // Load: every POST at once, each on its own connection.
    let bodyData = try JSONSerialization.data(withJSONObject: body)
    let start = Date()
    let posts = await withTaskGroup(of: (status: Int, id: String?, error: String?).self) { group in
        for _ in 0..<taskCount {
            group.addTask {
                do {
                    let created = try await request("POST", port: server.port, "/v1/tasks", key: loadKey, jsonData: bodyData)
                    return (created.status, created.json["id"] as? String, created.status == 202 ? nil : created.text)
                } catch { return (-1, nil, "\(error)") }
            }
        }
        var all: [(status: Int, id: String?, error: String?)] = []
        for await post in group { all.append(post) }
        return all
    }
    let postsTime = Date().timeIntervalSince(start) * 1000
    let ids = posts.compactMap(\.id)
    let refused = posts.filter { $0.status != 202 }
    if !refused.isEmpty { print("  \(refused.count) POSTs refused, e.g. \(refused.first!.status): \(refused.first!.error?.prefix(300) ?? "")") }
    print("  \(ids.count) of \(taskCount) POSTs accepted (202) within \(ms(postsTime))")

    // Wait until every accepted task ended (the list of the load key's tasks, polled).
    var tasks: [[String: Any]] = []
    let deadline = ContinuousClock.now + .seconds(quick ? 120 : 270)
    while ContinuousClock.now < deadline {
        let page = try await request("GET", port: server.port, "/v1/tasks?limit=200", key: loadKey)
        tasks = page.json["tasks"] as? [[String: Any]] ?? []
        if tasks.count >= ids.count && tasks.allSatisfy(isTerminal) { break }
        try await Task.sleep(for: .milliseconds(250))
    }
    if ids.count > 200 {
        // The list pages at 200: read each task instead.
        tasks = []
        for id in ids { tasks.append(try await request("GET", port: server.port, "/v1/tasks/\(id)", key: loadKey).json) }
    }
    sampler.stop()
    let peakRSS = max(sampler.peak, server.peakResident ?? 0)
    let endRSS = server.statusField("VmRSS") ?? 0
    var byStatus: [String: Int] = [:]
    for task in tasks { byStatus[task["status"] as? String ?? "?", default: 0] += 1 }
    let unfinished = tasks.filter { !isTerminal($0) }.count + max(0, ids.count - tasks.count)
    let finishedDates = tasks.compactMap { date($0["finished_at"]) }
    let wall = (finishedDates.max() ?? Date()).timeIntervalSince(start)
    let runTimes = tasks.compactMap { t in date(t["finished_at"]).flatMap { f in date(t["started_at"]).map { f.timeIntervalSince($0) * 1000 } } }
    let endToEnd = finishedDates.map { $0.timeIntervalSince(start) * 1000 }
    let failures = tasks.filter { $0["status"] as? String != "succeeded" }
    if let failed = failures.first { print("  e.g. task \(failed["id"] ?? "?") \(failed["status"] ?? "?"): \(failed["error"] ?? "")") }

    // Events: every task's JSON page against what its stand-in printed.
    let checks = try await withThrowingTaskGroup(of: EventCheck.self) { group in
        var results: [EventCheck] = []
        var next = 0
        func add() {
            let id = ids[next]; next += 1
            group.addTask { EventCheck(try await eventPage(port: server.port, id: id, key: loadKey), expected: expected) }
        }
        while next < min(8, ids.count) { add() }
        while let check = try await group.next() {
            results.append(check)
            if next < ids.count { add() }
        }
        return results
    }
    await server.stop()
    let lost = checks.map(\.lost).reduce(0, +), extra = checks.map(\.extra).reduce(0, +)
    let duplicateSeq = checks.map(\.duplicateSeq).reduce(0, +), outOfOrder = checks.map(\.outOfOrder).reduce(0, +)
    let gaps = checks.map(\.gaps).reduce(0, +), agentEvents = checks.map(\.agent).reduce(0, +), caEvents = checks.map(\.ca).reduce(0, +)
    let other = checks.map(\.other).reduce(0, +)
    let aloneE2E = median(aloneEndToEnd), aloneRunning = median(aloneRun)
    let tasksPerSecond = Double(tasks.count) / wall
    let statusText = byStatus.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    let allSucceeded = byStatus["succeeded"] == taskCount && unfinished == 0

    print("  statuses: \(statusText)\(unfinished > 0 ? ", \(unfinished) not ended by the deadline" : "")")
    print(String(format: "  wall time %.2f s (first POST to last finished_at), %.1f tasks/s; alone: %.2f tasks/s (1 / %.0f ms)",
                 wall, tasksPerSecond, 1000 / aloneE2E, aloneE2E))
    print("  running time per task: median \(ms(median(runTimes))), p90 \(ms(percentile(runTimes, 0.9))), max \(ms(runTimes.max() ?? .nan)) (alone \(ms(aloneRunning)))")
    print("  end to end per task (queue included): median \(ms(median(endToEnd))), max \(ms(endToEnd.max() ?? .nan)) (alone \(ms(aloneE2E)))")
    print("  server peak RSS (VmHWM) \(mib(peakRSS)); after the task(s) alone \(mib(aloneRSS)); resident once all ended \(mib(endRSS)); idle after start \(mib(idleRSS)) (goal <= 300 MB: \(peakRSS <= 300_000_000 ? "met" : "NOT met"))")
    print("  events: \(checks.count) tasks checked, \(agentEvents) agent events (expected \(3 * ids.count)), \(caEvents) ca events, \(other) other;"
          + " lost \(lost), duplicated \(extra), duplicate seq \(duplicateSeq), out of order \(outOfOrder), seq gaps \(gaps)")

    if !refused.isEmpty { problem("\(refused.count) of \(taskCount) POSTs were refused") }
    if !allSucceeded { problem("\(byStatus["succeeded"] ?? 0) of \(taskCount) tasks succeeded (\(statusText)\(unfinished > 0 ? ", \(unfinished) not ended" : ""))") }
    if checks.count != ids.count { problem("the events of only \(checks.count) of \(ids.count) tasks were checked") }
    if lost + extra + duplicateSeq + outOfOrder + gaps > 0 {
        problem("events: lost \(lost), duplicated \(extra), duplicate seq \(duplicateSeq), out of order \(outOfOrder), seq gaps \(gaps)")
    }
    record(title, "completed", statusText, baseline: "\(taskCount) submitted", ratio: String(format: "%.2f", Double(byStatus["succeeded"] ?? 0) / Double(taskCount)),
           goal: allSucceeded ? "all succeeded: met" : "all succeeded: NOT met")
    record(title, "wall time / tasks per s", String(format: "%.2f s / %.1f tasks/s", wall, tasksPerSecond),
           baseline: String(format: "%.2f tasks/s alone", 1000 / aloneE2E), ratio: ratio(tasksPerSecond, 1000 / aloneE2E))
    record(title, "running time per task (median)", ms(median(runTimes)), baseline: "\(ms(aloneRunning)) alone", ratio: ratio(median(runTimes), aloneRunning))
    record(title, "end to end per task (median, queue incl.)", ms(median(endToEnd)), baseline: "\(ms(aloneE2E)) alone", ratio: ratio(median(endToEnd), aloneE2E))
    record(title, "server peak RSS (VmHWM)", mib(peakRSS), baseline: "\(mib(aloneRSS)) alone", ratio: ratio(Double(peakRSS), Double(aloneRSS)),
           goal: peakRSS <= 300_000_000 ? "<= 300 MB: met" : "<= 300 MB: NOT met")
    record(title, "agent events lost / duplicated", "\(lost) / \(extra + duplicateSeq)", baseline: "\(3 * ids.count) printed", ratio: String(format: "%.4f", Double(lost) / Double(max(1, 3 * ids.count))),
           goal: lost == 0 && extra + duplicateSeq == 0 && outOfOrder == 0 ? "0 / 0: met" : "0 / 0: NOT met")
}

// MARK: 3. SSE followers of one running task

func slowStandIn(events: Int) -> String {
    """
    #!/bin/sh
    # Stand-in for Claude Code (ca-server-bench): \(events) assistant events 10 ms apart, then a result. The benchmark measures the server, not the agent.
    echo '{"type":"system","subtype":"init","session_id":"s1","model":"stand-in"}'
    i=1
    while [ $i -le \(events) ]; do
      echo '{"type":"assistant","message":{"content":[{"type":"text","text":"step '"$i"'"}]},"session_id":"s1"}'
      sleep 0.01
      i=$((i + 1))
    done
    echo '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"done","session_id":"s1","total_cost_usd":0.01,"usage":{"input_tokens":1,"output_tokens":1}}'

    """
}

struct FollowRun {
    var followers: [FollowResult]
    var pageIDs: [Int]
    var task: [String: Any]
    var ok: Int
    var lags: [Double]          // end event received − task finished_at, ms
    var lastConnectedBeforeEnd: Bool
}

func followRun(port: Int, key: String, body: [String: Any], followers count: Int, expected: [String: Int]) async throws -> FollowRun {
    let created = try await request("POST", port: port, "/v1/tasks", key: key, json: body)
    guard created.status == 202, let id = created.json["id"] as? String else {
        throw BenchFailure("POST /v1/tasks answered \(created.status): \(created.text.prefix(500))")
    }
    // Followers attach once the task runs (its agent then prints for a few seconds).
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        let task = try await request("GET", port: port, "/v1/tasks/\(id)", key: key).json
        if task["status"] as? String == "running" { break }
        if isTerminal(task) { throw BenchFailure("task \(id) ended before the followers attached: \(task["status"] ?? "?") \(task["error"] ?? "")") }
        try await Task.sleep(for: .milliseconds(10))
    }
    let results = await withTaskGroup(of: FollowResult.self) { group in
        for _ in 0..<count { group.addTask { await follow(port: port, id: id, key: key) } }
        var all: [FollowResult] = []
        for await result in group { all.append(result) }
        return all
    }
    let task = try await waitForEnd(port: port, id: id, key: key)
    let page = try await eventPage(port: port, id: id, key: key)
    let check = EventCheck(page, expected: expected)
    if !check.clean { print("  WARNING: the JSON page of \(id) is not clean: lost \(check.lost), extra \(check.extra), gaps \(check.gaps)") }
    let pageIDs = page.compactMap { $0["seq"] as? Int }
    let ok = results.filter { $0.error == nil && $0.sawEnd && $0.ids == pageIDs && $0.dataSeqMismatches == 0 && $0.endStatus == "succeeded" }.count
    let finished = date(task["finished_at"]) ?? Date()
    let lags = results.compactMap { $0.endAt.map { $0.timeIntervalSince(finished) * 1000 } }
    let lastConnected = results.compactMap(\.connectedAt).max() ?? .distantFuture
    for (i, result) in results.enumerated() where result.error != nil || result.ids != pageIDs {
        if i < 3 {
            print("  follower failed: \(result.error ?? "ids differ") (\(result.ids.count) ids, expected \(pageIDs.count); duplicates \(result.ids.count - Set(result.ids).count))")
        }
    }
    return FollowRun(followers: results, pageIDs: pageIDs, task: task, ok: ok, lags: lags, lastConnectedBeforeEnd: lastConnected < finished)
}

func benchFollow() async throws {
    let title = "3. \(followerCount) SSE followers"
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap") else {
        print("\(title): skipped, bubblewrap is not installed (apt-get install -y bubblewrap)")
        record(title, "skipped", "bwrap missing", baseline: "", ratio: "")
        return
    }
    let home = scratch.appendingPathComponent("follow-home")
    let fixture = try GitFixture.make(in: scratch.appendingPathComponent("follow-git"))
    let standIn = scratch.appendingPathComponent("stand-in-agent-slow.sh").path
    try await ExecutableScript.write(slowStandIn(events: slowEventCount), to: standIn)
    let env = serverEnvironment(home: home, ["ANTHROPIC_API_KEY": "dummy", "CA_CLAUDE_BIN": standIn])
    let key = try await createKey(ca: caBinary, name: "follow", env: env)
    let server = try await ServerProcess.start(name: "ca-serve-follow", caBinary,
                                               ["serve", "--port", "0", "--allow-local-backend", "--allow-local-repos"], env: env, logFolder: logs)
    let body: [String: Any] = ["prompt": "stand-in task", "repository_url": "file://" + fixture.bare.path, "sandbox": "local"]
    let expected = ["system": 1, "assistant": slowEventCount, "result": 1]
    print("\(title): stand-in agent prints \(slowEventCount + 2) stream-json lines over ~\(slowEventCount / 100 + 1) s; followers attach once the task runs")
    let single = try await followRun(port: server.port, key: key, body: body, followers: 1, expected: expected)
    let singleRSS = server.peakResident ?? 0
    let many = try await followRun(port: server.port, key: key, body: body, followers: followerCount, expected: expected)
    let peakRSS = server.peakResident ?? 0
    await server.stop()

    let singleLag = single.lags.max() ?? .nan, manyLag = many.lags.max() ?? .nan
    let counts = many.followers.map(\.ids.count)
    for (label, run) in [("1 follower (baseline)", single), ("\(followerCount) followers", many)] {
        let perFollower = run.followers.map(\.ids.count)
        print("  \(label): \(run.ok)/\(run.followers.count) OK; events per follower \(perFollower.min() ?? 0)–\(perFollower.max() ?? 0) (JSON page: \(run.pageIDs.count));"
              + " task end → end event: median \(ms(median(run.lags))), last \(ms(run.lags.max() ?? .nan)); all attached before the end: \(run.lastConnectedBeforeEnd ? "yes" : "NO")")
    }
    print("  server peak RSS (VmHWM) \(mib(peakRSS)); after the single follower \(mib(singleRSS))")
    if single.ok != 1 { problem("the single follower did not receive every event exactly once") }
    if many.ok != followerCount { problem("\(followerCount - many.ok) of \(followerCount) followers did not receive every event exactly once") }
    for (label, run) in [("the single follower", single), ("the \(followerCount) followers", many)] where !run.lastConnectedBeforeEnd {
        problem("\(label) did not all attach before the task ended: the run does not measure live fan-out (use more --events)")
    }
    record(title, "followers OK", "\(many.ok)/\(followerCount)", baseline: "\(single.ok)/1 single", ratio: String(format: "%.2f", Double(many.ok) / Double(followerCount)),
           goal: many.ok == followerCount ? "all: met" : "all: NOT met")
    record(title, "events per follower", "\(counts.min() ?? 0)–\(counts.max() ?? 0)", baseline: "\(single.followers.first?.ids.count ?? 0) single",
           ratio: ratio(Double(counts.min() ?? 0), Double(single.followers.first?.ids.count ?? 0)))
    record(title, "task end → last end event", ms(manyLag), baseline: "\(ms(singleLag)) single", ratio: ratio(manyLag, singleLag))
    record(title, "server peak RSS (VmHWM)", mib(peakRSS), baseline: "\(mib(singleRSS)) single", ratio: ratio(Double(peakRSS), Double(singleRSS)))
}

// MARK: Run

print("ca-server-bench\(quick ? " --quick" : ""): ca = \(caBinary); scratch \(scratch.path)")
print("agent: a STAND-IN shell script (CA_CLAUDE_BIN) printing valid stream-json: these figures are the server's, not an agent's")
let started = ContinuousClock.now
var failed = false
for (number, bench) in [(1, benchGet), (2, benchSubmit), (3, benchFollow)] where only.contains(number) {
    do {
        try await bench()
    } catch {
        failed = true
        print("benchmark \(number) failed: \(error)")
        record("\(number).", "FAILED", "\(error)".prefix(60).description, baseline: "", ratio: "")
    }
    for server in ServerProcess.live { await server.stop(grace: .seconds(5)) }
    print("")
}
try? await client.shutdown().get()
print("results (\(String(format: "%.0f", milliseconds(ContinuousClock.now - started) / 1000)) s in all)")
printTable()
if failed || !problems.isEmpty || keep {
    print("logs and data kept in \(scratch.path)")
} else {
    try? FileManager.default.removeItem(at: scratch)
}
if !problems.isEmpty {
    print("\(problems.count) failure(s):")
    for text in problems { print("  - \(text)") }
}
exit(failed || !problems.isEmpty ? 1 : 0)

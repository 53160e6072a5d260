import AgentCore
import CAServer
import CATestSupport
import Foundation
import Testing

/// `ca serve` over real HTTP on 127.0.0.1: the real Claude Code binary against the fake
/// Anthropic API, the real local backend, SQLite; only the HTTP client is the test's.
@Suite(.serialized) struct ServerAPITests {
    @Test func aTeammateRunsFollowsAndResumesATaskOverHTTP() async throws {
        let s = try await ServerHarness.start(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/hello.txt", "content": "hello over http\n"], text: "Writing."),
            .text("Wrote hello.txt."),
            .toolUse("Write", ["file_path": "{{cwd}}/second.txt", "content": "second\n"]),
            .text("Second done."),
        ])
        defer { Task { await s.cleanup() } }
        let key = try await s.key("alice")
        let created = try await s.createTask("write hello.txt", key: key)
        #expect(created.status == 202, "\(created.text)")
        let id = try #require(created.json["id"] as? String)
        #expect(created.json["owner"] as? String == "alice")

        // Live: every event once, in order, then the end with the final task.
        let (ids, end) = try await s.followSSE(id, key: key)
        #expect(!ids.isEmpty && ids == Array(1...ids.count))
        #expect(end?["status"] as? String == "succeeded")
        #expect(end?["result"] as? String == "Wrote hello.txt.")

        // Reconnecting after event 3 gives the rest, each once.
        let (rest, _) = try await s.followSSE(id, key: key, lastEventID: 3)
        #expect(rest == Array(4...ids.count))

        // The JSON page of the same events.
        let pageResponse = try await s.request("GET", "/v1/tasks/\(id)/logs?after=0&limit=10000", key: key)
        let page = pageResponse.json
        #expect(pageResponse.status == 200, "\(pageResponse.text.prefix(500))")
        #expect((page["events"] as? [[String: Any]])?.count == ids.count, "\(pageResponse.text.prefix(300))")
        #expect(page["done"] as? Bool == true)

        // Patch, file list and a file.
        let patch = try await s.request("GET", "/v1/tasks/\(id)/patch", key: key)
        #expect(patch.status == 200 && patch.text.contains("+hello over http"))
        let files = try await s.request("GET", "/v1/tasks/\(id)/files", key: key).json
        #expect((files["artifacts"] as? [[String: Any]])?.contains { $0["path"] as? String == "hello.txt" } == true)
        let file = try await s.request("GET", "/v1/tasks/\(id)/files/hello.txt", key: key)
        #expect(file.status == 200 && file.text == "hello over http\n")
        #expect(try await s.request("GET", "/v1/tasks/\(id)/files/..%2F..%2Fca.sqlite", key: key).status == 404)
        #expect(try await s.request("GET", "/v1/tasks/\(id)/files/transcript.jsonl", key: key).status == 404)

        // Resume: a child task with the parent's change and conversation.
        let resumed = try await s.request("POST", "/v1/tasks/\(id)/resume", key: key, json: ["prompt": "now second.txt"])
        #expect(resumed.status == 202, "\(resumed.text)")
        let child = try #require(resumed.json["id"] as? String)
        let childEnd = try await s.waitForEnd(child, key: key)
        #expect(childEnd["status"] as? String == "succeeded", "\(childEnd)")
        #expect(childEnd["parent_id"] as? String == id)
        let childPatch = try await s.request("GET", "/v1/tasks/\(child)/patch", key: key).text
        #expect(childPatch.contains("+second") && childPatch.contains("+hello over http"))

        // Listed, newest first, with a cursor.
        let first = try await s.request("GET", "/v1/tasks?limit=1", key: key).json
        #expect((first["tasks"] as? [[String: Any]])?.first?["id"] as? String == child)
        let cursor = try #require(first["next_cursor"] as? String)
        let second = try await s.request("GET", "/v1/tasks?limit=1&cursor=\(cursor)", key: key).json
        #expect((second["tasks"] as? [[String: Any]])?.first?["id"] as? String == id)

        // Metrics, without a key: the store's gauges, the finished tasks, the requests.
        let metrics = try await s.request("GET", "/metrics", key: nil)
        #expect(metrics.status == 200)
        let lines = Set(metrics.text.split(separator: "\n").map(String.init))
        #expect(lines.contains { $0.hasPrefix("ca_tasks{status=\"succeeded\"} 2") }, "\(metrics.text)")
        #expect(lines.contains { $0.hasPrefix("ca_task_duration_seconds_count{status=\"succeeded\"} 2") }, "\(metrics.text)")
        #expect(lines.contains { $0.hasPrefix("ca_http_requests_total{operation=\"createTask\",status=\"202\"} 1") }, "\(metrics.text)")
        #expect(lines.contains { $0.hasPrefix("ca_queue_depth 0") })

        // The server's key never reached the client.
        for response in [created, patch, file] { #expect(!response.text.contains(s.environment["ANTHROPIC_API_KEY"]!)) }
    }

    @Test func ownersAreIsolatedAndKeysAreChecked() async throws {
        let s = try await ServerHarness.start(script: [.text("Done.")])
        defer { Task { await s.cleanup() } }
        let alice = try await s.key("alice"), bob = try await s.key("bob")
        let created = try await s.createTask("alice's task", key: alice)
        let id = try #require(created.json["id"] as? String)
        _ = try await s.waitForEnd(id, key: alice)

        for path in ["/v1/tasks/\(id)", "/v1/tasks/\(id)/logs", "/v1/tasks/\(id)/patch", "/v1/tasks/\(id)/files"] {
            let response = try await s.request("GET", path, key: bob)
            #expect(response.status == 404, "\(path): \(response.status)")
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.json["code"] as? String == "task_not_found")
        }
        #expect(try await s.request("POST", "/v1/tasks/\(id)/cancel", key: bob).status == 404)
        #expect(try await s.request("POST", "/v1/tasks/\(id)/resume", key: bob, json: ["prompt": "x"]).status == 404)
        // A prefix says nothing about other owners' tasks.
        #expect(try await s.request("GET", "/v1/tasks/\(id.prefix(3))", key: bob).status == 404)
        #expect((try await s.request("GET", "/v1/tasks", key: bob).json["tasks"] as? [Any])?.isEmpty == true)
        // The admin key sees everything.
        #expect(try await s.request("GET", "/v1/tasks/\(id)", key: ServerHarness.adminKey).status == 200)

        // Keys: missing, malformed, wrong, revoked.
        let missing = try await s.request("GET", "/v1/tasks", key: nil)
        #expect(missing.status == 401 && missing.header("WWW-Authenticate") == "Bearer" && missing.json["code"] as? String == "unauthorized")
        #expect(try await s.request("GET", "/v1/tasks", key: nil, headers: [("Authorization", "Basic eDp5")]).status == 401)
        #expect(try await s.request("GET", "/v1/tasks", key: "ca_wrong").status == 401)
        let service = try TaskService(environment: s.environment)
        #expect(try await service.revokeKey(name: "bob"))
        // The server may serve a key it found for up to 5 s (AuthMiddleware.keys); then the revocation holds.
        let revokedBy = ContinuousClock.now + .seconds(8)
        var afterRevoke = 0
        while ContinuousClock.now < revokedBy {
            afterRevoke = try await s.request("GET", "/v1/tasks", key: bob).status
            if afterRevoke != 200 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(afterRevoke == 401)
        // Health needs no key.
        #expect(try await s.request("GET", "/healthz", key: nil).status == 200)
        #expect(try await s.request("GET", "/openapi.yaml", key: nil).text.hasPrefix("openapi: 3.1"))
    }

    @Test func badRequestsGetProblemsNeverServerErrors() async throws {
        let s = try await ServerHarness.start(script: [.text("Done."), .text("Done.")], configuration: ServerConfiguration(
            port: 0, allowLocalBackend: true, allowLocalRepositories: false, maximumPromptLength: 1000, maximumBundleSize: 64 << 10))
        defer { Task { await s.cleanup() } }
        let key = try await s.key("carol")
        func code(_ response: ServerHarness.Response) -> String? { response.json["code"] as? String }

        let notJSON = try await s.request("POST", "/v1/tasks", key: key, rawBody: Data("{nope".utf8), headers: [("Content-Type", "application/json")])
        #expect(notJSON.status == 400 && code(notJSON) == "invalid_request")
        let wrongType = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": 5, "repository_url": "https://example.invalid/r.git"])
        #expect(wrongType.status == 400)
        let local = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": "x", "repository_url": s.fixture.bare.path])
        #expect(local.status == 422 && code(local) == "local_repository_refused")
        let long = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": String(repeating: "x", count: 1001), "repository_url": "https://example.invalid/r.git"])
        #expect(long.status == 400 && code(long) == "prompt_too_large")
        let timeout = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": "x", "repository_url": "https://example.invalid/r.git", "timeout_seconds": 0])
        #expect(timeout.status == 400)
        let hosts = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": "x", "repository_url": "https://example.invalid/r.git", "allow_hosts": ["bad host!"]])
        #expect(hosts.status == 400)
        #expect(try await s.request("GET", "/v1/tasks/zzzzzzzzzzzzz", key: key).status == 404)
        #expect(try await s.request("GET", "/v1/tasks?limit=0", key: key).status == 400)
        #expect(try await s.request("GET", "/v1/tasks?cursor=%%%", key: key).status == 400)
        let nullField = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": "x", "repository_url": "https://example.invalid/r.git", "branch": NSNull()])
        #expect(nullField.status == 400 && (nullField.json["detail"] as? String)?.contains("'branch' must not be null") == true)
        let nullNested = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": "x", "repository_url": "https://example.invalid/r.git",
                                                                                  "open_pull_request": ["base": NSNull()]])
        #expect(nullNested.status == 400 && (nullNested.json["detail"] as? String)?.contains("'open_pull_request.base' must not be null") == true)
        let nullReview = try await s.request("POST", "/v1/reviews", key: key, json: ["repository": "o/r", "number": 1, "sandbox": NSNull()])
        #expect(nullReview.status == 400 && (nullReview.json["detail"] as? String)?.contains("'sandbox' must not be null") == true)
        let badReview = try await s.request("POST", "/v1/reviews", key: key, json: ["repository": "not a repo", "number": 1])
        #expect(badReview.status == 400 || badReview.status == 422, "\(badReview.status)")
        let noPR = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": "x", "repository_url": "https://example.invalid/r.git",
                                                                            "open_pull_request": [:] as [String: Any]])
        #expect(noPR.status == 422 && (noPR.json["detail"] as? String)?.contains("--open-pr needs a repository on") == true, "\(noPR.json)")
        // keep_alive_seconds: bounded by the document, and refused on a backend that cannot pause.
        let keepTooLong = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": "x", "repository_url": "https://example.invalid/r.git",
                                                                                   "sandbox": "local", "keep_alive_seconds": 86_401])
        #expect(keepTooLong.status == 400, "\(keepTooLong.text)")
        let keepLocal = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": "x", "repository_url": "https://example.invalid/r.git",
                                                                                 "sandbox": "local", "keep_alive_seconds": 600])
        #expect(keepLocal.status == 422 && (keepLocal.json["detail"] as? String)?.contains("--keep-alive needs a backend that can pause") == true,
                "\(keepLocal.text)")
        let huge = try await s.request("POST", "/v1/tasks", key: key, rawBody: Data(repeating: UInt8(ascii: " "), count: (1 << 20) + 1),
                                       headers: [("Content-Type", "application/json")])
        #expect(huge.status == 413 && code(huge) == "payload_too_large")
        // Bundles: a git bundle's header, within the limit, usable by the key that uploaded it.
        let octet = [("Content-Type", "application/octet-stream")]
        let notBundle = try await s.request("POST", "/v1/bundles", key: key, rawBody: Data("PK\u{3}\u{4} a zip".utf8), headers: octet)
        #expect(notBundle.status == 400 && code(notBundle) == "invalid_request", "\(notBundle.text)")
        let bigBundle = try await s.request("POST", "/v1/bundles", key: key, rawBody: Data("# v2 git bundle\n".utf8) + Data(count: 64 << 10), headers: octet)
        #expect(bigBundle.status == 413 && code(bigBundle) == "payload_too_large")
        let jsonBundle = try await s.request("POST", "/v1/bundles", key: key, json: ["bundle": "x"])
        #expect(jsonBundle.status == 415, "\(jsonBundle.text)")
        let bundleBytes = try await LocalRepositoryBundle.create(from: s.fixture.bare.path, displayURL: "fixture")
        let uploaded = try await s.request("POST", "/v1/bundles", key: key, rawBody: bundleBytes, headers: octet)
        #expect(uploaded.status == 201, "\(uploaded.text)")
        let bundleURL = try #require(uploaded.json["repository_url"] as? String)
        #expect(bundleURL.hasPrefix("bundle:") && uploaded.json["size"] as? Int == bundleBytes.count)
        let again = try await s.request("POST", "/v1/bundles", key: key, rawBody: bundleBytes, headers: octet)
        #expect(again.json["repository_url"] as? String == bundleURL)
        let otherKey = try await s.key("mallory")
        let stolen = try await s.request("POST", "/v1/tasks", key: otherKey, json: ["prompt": "x", "repository_url": bundleURL, "sandbox": "local"])
        #expect(stolen.status == 422 && code(stolen) == "repository_unreachable", "\(stolen.text)")
        let madeUp = try await s.request("POST", "/v1/tasks", key: key, json: ["prompt": "x", "repository_url": "bundle:../../ca.sqlite", "sandbox": "local"])
        #expect(madeUp.status == 422 && code(madeUp) == "invalid_task", "\(madeUp.text)")

        let tooFar = try await s.request("GET", "/v1/tasks/zzzzzzzzzzzzz/logs?after=9007199254740992", key: key)
        #expect(tooFar.status == 400 || tooFar.status == 404)
        // Paths and methods the API lacks get problems too; `instance` stays a valid URI reference.
        let wrongMethod = try await s.request("DELETE", "/v1/tasks", key: key)
        #expect(wrongMethod.status == 405 && code(wrongMethod) == "method_not_allowed" && wrongMethod.header("Allow") == "POST, GET")
        let unknown = try await s.request("GET", "/v2/%C3%A9%1B%5B2J/a|b^c\\d", key: key)
        #expect(unknown.status == 404 && code(unknown) == "route_not_found")
        let instance = try #require(unknown.json["instance"] as? String)
        #expect(instance.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }, "\(instance)")

        // Unknown fields are ignored; idempotency makes a retry safe.
        let body: [String: Any] = ["prompt": "idempotent", "repository_url": "https://127.0.0.1:1/r.git", "sandbox": "local", "color": "blue"]
        let first = try await s.request("POST", "/v1/tasks", key: key, json: body, headers: [("Idempotency-Key", "retry-1")])
        #expect(first.status == 202, "\(first.text)")
        let repeated = try await s.request("POST", "/v1/tasks", key: key, json: body, headers: [("Idempotency-Key", "retry-1")])
        #expect(repeated.status == 202 && repeated.json["id"] as? String == first.json["id"] as? String)
        var other = body
        other["prompt"] = "something else"
        let conflicting = try await s.request("POST", "/v1/tasks", key: key, json: other, headers: [("Idempotency-Key", "retry-1")])
        #expect(conflicting.status == 409 && code(conflicting) == "idempotency_conflict")
        // A patch is a 409 until the task ends, and when it ended without one: 404 means no such task.
        let id = try #require(first.json["id"] as? String)
        let patch = try await s.request("GET", "/v1/tasks/\(id)/patch", key: key)
        #expect(patch.status == 409 && ["task_not_finished", "no_patch"].contains(code(patch) ?? ""), "\(patch.text)")
    }

    @Test func queuedTasksSurviveARestartAndShutdownDrains() async throws {
        // A server that runs nothing at once would be odd; instead, the queue of a server that
        // is gone (tasks queued by another instance) is taken over by the next start.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-restart-\(UUID().uuidString.prefix(8))")
        let first = try await ServerHarness.start(script: [.text("One."), .text("Two.")], root: root)
        let key = try await first.key("dave")
        await first.stop()
        // Tasks queued for a server that is not running.
        let service = try TaskService(environment: first.environment)
        var ids: [String] = []
        for prompt in ["one", "two"] {
            var request = TaskRequest(prompt: prompt, repository: first.fixture.bare.path, backend: .local)
            request.owner = "dave"
            ids.append(try await service.create(request, queuedBy: "serve-gone-instance", idempotency: nil).task.id)
        }
        // CLI recovery leaves a server's queue alone.
        #expect(await service.recoverOrphans().isEmpty)
        let second = try await ServerHarness.start(script: [], root: root, fake: first.fake)
        defer { Task { await second.cleanup() } }
        for id in ids {
            let task = try await second.waitForEnd(id, key: key)
            #expect(task["status"] as? String == "succeeded", "\(task)")
        }
    }

    @Test func gracefulShutdownRefusesNewTasksAndStopsRunningOnesAfterTheGrace() async throws {
        let s = try await ServerHarness.start(script: [ScriptedTurn(reply: .hang)], configuration: ServerConfiguration(
            port: 0, allowLocalBackend: true, allowLocalRepositories: true, shutdownGrace: .seconds(2)))
        defer { Task { await s.cleanup() } }
        let key = try await s.key("erin")
        let id = try #require(try await s.createTask("hang", key: key).json["id"] as? String)
        #expect(await s.fake.waitForRequests(count: 1, timeout: .seconds(60)), "the agent never called the API")
        let stopping = Task { await s.stop() }
        // While the queue drains, the API still answers, and refuses new work.
        var refused: ServerHarness.Response?
        for _ in 0..<40 where refused == nil {
            let response = try await s.createTask("too late", key: key)
            if response.status == 503 { refused = response } else { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(refused?.json["code"] as? String == "shutting_down")
        #expect(refused?.header("Retry-After") != nil)
        await stopping.value
        let service = try TaskService(environment: s.environment)
        let task = try await service.resolve(id)
        #expect(task.status == .failed)
        #expect(task.error == "the server shut down before the task ended")
    }
}

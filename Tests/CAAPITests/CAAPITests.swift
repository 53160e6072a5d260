import AsyncHTTPClient
import CAAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import OpenAPIAsyncHTTPClient
import OpenAPIHummingbird
import OpenAPIRuntime
import Testing

/// The generated code (Sources/CAAPI/Generated, from openapi.yaml) against the CLI's JSON shapes.
@Suite struct CAAPITests {
    /// A task as `ca task get --json` prints it (JSONOutput: sorted keys, milliseconds, UTC).
    static let cliTaskJSON = #"""
    {"base_commit":"5f2c9a1e0b7d4c3a2f1e0d9c8b7a6f5e4d3c2b1a","branch":"main","cost_usd":0.0421,"created_at":"2026-12-03T15:01:06.123Z","error":null,"failure_reason":null,"files_dir":"/root/.local/share/ca/tasks/0nabx3v9k2c3m","finished_at":"2026-12-03T15:03:10.500Z","id":"0nabx3v9k2c3m","input_tokens":1234,"keep_alive_seconds":null,"max_cost_usd":null,"max_turns":null,"model":null,"num_turns":4,"output_tokens":567,"parent_id":null,"paused_sandbox_id":null,"paused_until":null,"prompt":"Add a hello script","pull_request_number":null,"pull_request_url":null,"repository_url":"https://github.com/org/app.git","result":"Added hello.sh.","review_url":null,"sandbox":"local","sandbox_id":"ca-0nabx3v9k2c3m","session_id":"4f8e2c1a-7b3d-4e5f-9a0b-1c2d3e4f5a6b","started_at":"2026-12-03T15:01:07.009Z","status":"succeeded","timeout_seconds":3600}
    """#

    /// The keys of the CLI's task, less the server-local `files_dir`, plus the server's `owner` and `network`.
    static let serverTaskKeys: Set<String> = {
        var keys = Set((try! JSONSerialization.jsonObject(with: Data(cliTaskJSON.utf8)) as! [String: Any]).keys)
        keys.remove("files_dir")
        return keys.union(["owner", "network"])
    }()

    /// What the generated client and server do with `Configuration(dateTranscoder: .iso8601WithFractionalSeconds)`.
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try ISO8601DateTranscoder.iso8601WithFractionalSeconds.decode(decoder.singleValueContainer().decode(String.self))
        }
        return decoder
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(ISO8601DateTranscoder.iso8601WithFractionalSeconds.encode(date))
        }
        return encoder
    }

    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func cliTaskJSONDecodesIntoTheGeneratedTask() throws {
        // The server adds `owner` and `network`; everything else is the CLI's object as it is.
        var object = try Self.object(Data(Self.cliTaskJSON.utf8))
        object["owner"] = "alice"
        object["network"] = "allowlist"
        let task = try Self.decoder().decode(Components.Schemas.Task.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(task.id == "0nabx3v9k2c3m")
        #expect(task.status == .succeeded)
        #expect(task.repositoryUrl == "https://github.com/org/app.git")
        #expect(task.branch == "main" && task.parentId == nil && task.maxTurns == nil && task.model == nil && task.error == nil)
        #expect(task.sandbox == .local && task.network == .allowlist && task.owner == "alice")
        #expect(task.costUsd == 0.0421 && task.inputTokens == 1234 && task.outputTokens == 567 && task.numTurns == 4)
        #expect(task.timeoutSeconds == 3600)
        #expect(abs(task.createdAt.timeIntervalSince1970 - 1_796_310_066.123) < 0.0005)
        #expect(abs((task.startedAt?.timeIntervalSince1970 ?? 0) - 1_796_310_067.009) < 0.0005)
        #expect(abs((task.finishedAt?.timeIntervalSince1970 ?? 0) - 1_796_310_190.5) < 0.0005)

        // Encoded again: the same object, `files_dir` aside.
        let encoded = try Self.object(Self.encoder().encode(task))
        #expect(Set(encoded.keys) == Self.serverTaskKeys)
        var expected = object
        expected["files_dir"] = nil
        #expect(NSDictionary(dictionary: encoded).isEqual(to: expected))
    }

    @Test func nullFieldsAreEncodedAsNull() throws {
        let task = Components.Schemas.Task(
            id: "0nabx3v9k2c3m", status: .queued, prompt: "p", repositoryUrl: "https://example.com/r.git", sandbox: .novita,
            timeoutSeconds: 60, createdAt: Date(timeIntervalSince1970: 0), owner: "bob")
        let page = Components.Schemas.TaskPage(tasks: [task], nextCursor: nil)
        let json = try Self.object(Self.encoder().encode(page))
        #expect(json["next_cursor"] is NSNull)
        let encoded = try #require((json["tasks"] as? [[String: Any]])?.first)
        #expect(Set(encoded.keys) == Self.serverTaskKeys)
        let nulls = Set(encoded.filter { $0.value is NSNull }.keys)
        #expect(nulls == Self.serverTaskKeys.subtracting(["id", "status", "prompt", "repository_url", "sandbox", "timeout_seconds", "created_at", "owner"]))
        #expect(encoded["created_at"] as? String == "1970-01-01T00:00:00.000Z")

        let event = Components.Schemas.Event(seq: 1, createdAt: Date(timeIntervalSince1970: 0), _type: "ca", data: .init())
        #expect(Set(try Self.object(Self.encoder().encode(event)).keys) == ["seq", "created_at", "type", "subtype", "data"])
        let artifact = Components.Schemas.Artifact(kind: .file, path: "a/b.txt", size: 3)
        #expect(try Self.object(Self.encoder().encode(artifact))["note"] is NSNull)
    }

    @Test func bestOfNFieldsAppearOnlyOnItsTasks() throws {
        // A best-of-N parent: `attempts`, each with every field (null when unknown).
        var parent = Components.Schemas.Task(
            id: "0nabx3v9k2c3m", status: .running, prompt: "p", repositoryUrl: "https://example.com/r.git", sandbox: .local,
            timeoutSeconds: 60, createdAt: Date(timeIntervalSince1970: 0), owner: "bob")
        parent.attempts = [Components.Schemas.TaskAttempt(attempt: 1, id: "0nabx3v9k2c3n", status: .queued)]
        let json = try Self.object(Self.encoder().encode(parent))
        #expect(Set(json.keys) == Self.serverTaskKeys.union(["attempts"]))
        let attempt = try #require((json["attempts"] as? [[String: Any]])?.first)
        #expect(Set(attempt.keys) == ["attempt", "id", "status", "cost_usd", "error", "files_changed", "patch_bytes"])
        #expect(attempt["cost_usd"] is NSNull && attempt["patch_bytes"] is NSNull && attempt["attempt"] as? Int == 1)
        // An attempt: its parent and number; an ordinary task has none of the three.
        var child = parent
        child.attempts = nil
        child.attemptOf = "0nabx3v9k2c3m"
        child.attempt = 1
        #expect(Set(try Self.object(Self.encoder().encode(child)).keys) == Self.serverTaskKeys.union(["attempt_of", "attempt"]))
        child.attemptOf = nil
        child.attempt = nil
        #expect(Set(try Self.object(Self.encoder().encode(child)).keys) == Self.serverTaskKeys)
    }

    @Test func problemEncodesAsRFC9457() throws {
        let problem = Components.Schemas.Problem(
            _type: "https://ca.invalid/problems/ambiguous_id", title: "Ambiguous task id", status: 409,
            detail: "'0n' matches 2 tasks", code: "ambiguous_id", instance: "/v1/tasks/0n")
        let json = try Self.object(Self.encoder().encode(problem))
        #expect(json["type"] as? String == "https://ca.invalid/problems/ambiguous_id")
        #expect(json["title"] as? String == "Ambiguous task id")
        #expect(json["status"] as? Int == 409)
        #expect(json["detail"] as? String == "'0n' matches 2 tasks")
        #expect(json["code"] as? String == "ambiguous_id")
        #expect(json["instance"] as? String == "/v1/tasks/0n")
        #expect(json.count == 6)
        let minimal = try Self.object(Self.encoder().encode(
            Components.Schemas.Problem(_type: "about:blank", title: "Not Found", status: 404, code: "task_not_found")))
        #expect(Set(minimal.keys) == ["type", "title", "status", "code"])
    }

    @Test func embeddedDocumentIsOpenAPIYAML() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        #expect(OpenAPIDocument.yaml == document, "openapi.yaml changed: run scripts/generate-openapi.sh")
    }

    /// The generated client over AsyncHTTPClient against the generated server on Hummingbird, on 127.0.0.1.
    @Test func generatedClientTalksToGeneratedServer() async throws {
        let configuration = Configuration(dateTranscoder: .iso8601WithFractionalSeconds)
        let router = Router()
        try StubAPI().registerHandlers(on: router, configuration: configuration)
        let app = Application(router: router)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let api = Client(
                serverURL: try #require(URL(string: "http://127.0.0.1:\(port)")), configuration: configuration,
                transport: AsyncHTTPClientTransport())

            let task = try await api.getTask(path: .init(id: "0nab")).ok.body.json
            #expect(task.id == "0nabx3v9k2c3m" && task.branch == nil && task.network == .allowlist)
            #expect(abs(task.createdAt.timeIntervalSince(StubAPI.created)) < 0.0005)

            // On the wire, null fields are present.
            let raw = try await HTTPClient.shared.execute(.init(url: "http://127.0.0.1:\(port)/v1/tasks/0nab"), timeout: .seconds(30))
            let body = try await raw.body.collect(upTo: 1 << 20)
            let wire = try Self.object(Data(buffer: body))
            #expect(Set(wire.keys) == Self.serverTaskKeys && wire["branch"] is NSNull)

            // A path with slashes goes percent-encoded in one segment and arrives decoded.
            let file = try await api.getTaskFile(path: .init(id: "0nab", path: "src/dir/main file.swift")).ok.body.binary
            #expect(try await String(collecting: file, upTo: 1024) == "src/dir/main file.swift")

            // Unknown task: the problem comes back as a problem.
            let missing = try await api.getTask(path: .init(id: "zzz"))
            guard case .notFound(let notFound) = missing else { Issue.record("expected 404, got \(missing)"); return }
            #expect(try notFound.body.applicationProblemJson.code == "task_not_found")
        }
    }
}

/// Just enough of the API for the round trip; everything else is 501.
struct StubAPI: APIProtocol {
    static let created = Date(timeIntervalSince1970: 1_796_310_066.123)

    func getTask(_ input: Operations.GetTask.Input) async throws -> Operations.GetTask.Output {
        guard "0nabx3v9k2c3m".hasPrefix(input.path.id) else {
            return .notFound(.init(body: .applicationProblemJson(.init(
                _type: "about:blank", title: "Not Found", status: 404, code: "task_not_found"))))
        }
        return .ok(.init(body: .json(.init(
            id: "0nabx3v9k2c3m", status: .running, prompt: "p", repositoryUrl: "https://example.com/r.git", sandbox: .local,
            timeoutSeconds: 3600, createdAt: Self.created, owner: "alice", network: .allowlist))))
    }

    func getTaskFile(_ input: Operations.GetTaskFile.Input) async throws -> Operations.GetTaskFile.Output {
        .ok(.init(body: .binary(HTTPBody(input.path.path))))
    }

    func listTasks(_ input: Operations.ListTasks.Input) async throws -> Operations.ListTasks.Output { .undocumented(statusCode: 501, .init()) }
    func createTask(_ input: Operations.CreateTask.Input) async throws -> Operations.CreateTask.Output { .undocumented(statusCode: 501, .init()) }
    func uploadBundle(_ input: Operations.UploadBundle.Input) async throws -> Operations.UploadBundle.Output { .undocumented(statusCode: 501, .init()) }
    func getTaskLogs(_ input: Operations.GetTaskLogs.Input) async throws -> Operations.GetTaskLogs.Output { .undocumented(statusCode: 501, .init()) }
    func resumeTask(_ input: Operations.ResumeTask.Input) async throws -> Operations.ResumeTask.Output { .undocumented(statusCode: 501, .init()) }
    func createReview(_ input: Operations.CreateReview.Input) async throws -> Operations.CreateReview.Output { .undocumented(statusCode: 501, .init()) }
    func cancelTask(_ input: Operations.CancelTask.Input) async throws -> Operations.CancelTask.Output { .undocumented(statusCode: 501, .init()) }
    func getTaskPatch(_ input: Operations.GetTaskPatch.Input) async throws -> Operations.GetTaskPatch.Output { .undocumented(statusCode: 501, .init()) }
    func listTaskFiles(_ input: Operations.ListTaskFiles.Input) async throws -> Operations.ListTaskFiles.Output { .undocumented(statusCode: 501, .init()) }
    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output { .undocumented(statusCode: 501, .init()) }
    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output { .undocumented(statusCode: 501, .init()) }
    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output { .undocumented(statusCode: 501, .init()) }
    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output { .undocumented(statusCode: 501, .init()) }
}

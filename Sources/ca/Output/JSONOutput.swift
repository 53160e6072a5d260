import AgentCore
import Foundation

/// The stable JSON shapes of `--json` output (documented in the README).
enum JSONOutput {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(timestamp(date))
        }
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
            .replacingOccurrences(of: "+0000", with: "Z")
    }

    /// A task, as printed by every `--json` command.
    struct TaskBody: Encodable {
        var id: String
        var status: String
        var prompt: String
        var repository_url: String
        var branch: String?
        var base_commit: String?
        var parent_id: String?
        var sandbox: String
        var sandbox_id: String?
        var session_id: String?
        var model: String?
        var max_turns: Int?
        var timeout_seconds: Int
        var cost_usd: Double?
        var input_tokens: Int?
        var output_tokens: Int?
        var num_turns: Int?
        var result: String?
        var error: String?
        var created_at: Date
        var started_at: Date?
        var finished_at: Date?
        var files_dir: String

        init(_ t: TaskRecord, paths: CAPaths) {
            id = t.id; status = t.status.rawValue; prompt = t.prompt; repository_url = t.repositoryURL
            branch = t.branch; base_commit = t.baseCommit; parent_id = t.parentID; sandbox = t.sandboxBackend.rawValue
            sandbox_id = t.sandboxID; session_id = t.sessionID; model = t.model; max_turns = t.maxTurns
            timeout_seconds = t.timeoutSeconds; cost_usd = t.costUSD; input_tokens = t.inputTokens
            output_tokens = t.outputTokens; num_turns = t.numTurns; result = t.result; error = t.error
            created_at = t.createdAt; started_at = t.startedAt; finished_at = t.finishedAt
            files_dir = paths.taskFolder(t.id).path
        }

        // Optional fields are printed as null rather than left out, so the shape is stable.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(id, forKey: .id); try c.encode(status, forKey: .status); try c.encode(prompt, forKey: .prompt)
            try c.encode(repository_url, forKey: .repository_url); try c.encode(branch, forKey: .branch)
            try c.encode(base_commit, forKey: .base_commit); try c.encode(parent_id, forKey: .parent_id)
            try c.encode(sandbox, forKey: .sandbox); try c.encode(sandbox_id, forKey: .sandbox_id)
            try c.encode(session_id, forKey: .session_id); try c.encode(model, forKey: .model)
            try c.encode(max_turns, forKey: .max_turns); try c.encode(timeout_seconds, forKey: .timeout_seconds)
            try c.encode(cost_usd, forKey: .cost_usd); try c.encode(input_tokens, forKey: .input_tokens)
            try c.encode(output_tokens, forKey: .output_tokens); try c.encode(num_turns, forKey: .num_turns)
            try c.encode(result, forKey: .result); try c.encode(error, forKey: .error)
            try c.encode(created_at, forKey: .created_at); try c.encode(started_at, forKey: .started_at)
            try c.encode(finished_at, forKey: .finished_at); try c.encode(files_dir, forKey: .files_dir)
        }

        enum Keys: String, CodingKey {
            case id, status, prompt, repository_url, branch, base_commit, parent_id, sandbox, sandbox_id, session_id, model
            case max_turns, timeout_seconds, cost_usd, input_tokens, output_tokens, num_turns, result, error
            case created_at, started_at, finished_at, files_dir
        }
    }

    /// One log line of `ca task logs --json`.
    struct EventLine: Encodable {
        var seq: Int
        var created_at: Date
        var type: String
        var subtype: String?
        var data: JSONValue
    }

    struct ArtifactBody: Encodable {
        var kind: String
        var path: String
        var size: Int64
        var note: String?
    }

    struct FilesBody: Encodable {
        var id: String
        var files_dir: String
        var artifacts: [ArtifactBody]
    }

    struct DiffBody: Encodable {
        var id: String
        var patch: String
    }

    struct ErrorBody: Encodable {
        var error: String
        var exitCode: Int32
        enum CodingKeys: String, CodingKey { case error, exitCode = "exit_code" }
    }
}

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

    /// A task, as printed by every `--json` command: the engine's ``TaskView`` with the folder
    /// its files were saved to.
    static func TaskBody(_ t: TaskRecord, paths: CAPaths, attempts: [TaskAttemptView]? = nil) -> TaskView {
        TaskView(t, filesDirectory: paths.taskFolder(t.id).path, attempts: attempts)
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

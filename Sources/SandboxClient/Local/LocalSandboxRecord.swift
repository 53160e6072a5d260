import Foundation

/// The `sandbox.json` file of a local sandbox.
///
/// It holds what another process needs to list, connect to and expire the sandbox. It never
/// holds environment values: they carry API keys and stay in memory.
struct LocalSandboxRecord: Sendable, Hashable, Codable {
    var id: String
    var template: String
    var metadata: [String: String]
    var startedAt: Date
    var expiresAt: Date
    /// The isolation mode the sandbox was created with (`bubblewrap` or `none`).
    var isolation: String

    static let fileName = "sandbox.json"

    private enum CodingKeys: String, CodingKey {
        case id, template, metadata, startedAt, expiresAt, isolation
    }

    private static let dateStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    init(id: String, template: String, metadata: [String: String], startedAt: Date, expiresAt: Date, isolation: String) {
        self.id = id
        self.template = template
        self.metadata = metadata
        self.startedAt = startedAt
        self.expiresAt = expiresAt
        self.isolation = isolation
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        template = try container.decode(String.self, forKey: .template)
        metadata = try container.decode([String: String].self, forKey: .metadata)
        startedAt = try Self.dateStyle.parse(container.decode(String.self, forKey: .startedAt))
        expiresAt = try Self.dateStyle.parse(container.decode(String.self, forKey: .expiresAt))
        isolation = try container.decodeIfPresent(String.self, forKey: .isolation) ?? "bubblewrap"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(template, forKey: .template)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(startedAt.formatted(Self.dateStyle), forKey: .startedAt)
        try container.encode(expiresAt.formatted(Self.dateStyle), forKey: .expiresAt)
        try container.encode(isolation, forKey: .isolation)
    }

    /// The listing form.
    var info: SandboxInfo {
        SandboxInfo(id: id, template: template, metadata: metadata, startedAt: startedAt, expiresAt: expiresAt, state: "running")
    }

    /// Reads the record of the sandbox folder.
    /// - Throws: ``SandboxError/sandboxNotFound(_:)`` when it is missing or unreadable.
    static func read(sandboxFolder: String) throws(SandboxError) -> LocalSandboxRecord {
        let url = URL(fileURLWithPath: sandboxFolder + "/" + fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .sandboxNotFound(URL(fileURLWithPath: sandboxFolder).lastPathComponent)
        }
        do {
            return try JSONDecoder().decode(LocalSandboxRecord.self, from: data)
        } catch {
            throw .sandboxNotFound("\(URL(fileURLWithPath: sandboxFolder).lastPathComponent) has an unreadable \(fileName)")
        }
    }

    /// Writes the record into the sandbox folder atomically.
    func write(sandboxFolder: String) throws(SandboxError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            let data = try encoder.encode(self)
            try data.write(to: URL(fileURLWithPath: sandboxFolder + "/" + Self.fileName), options: .atomic)
        } catch {
            throw .io("cannot write \(Self.fileName) of sandbox \(id): \(error.localizedDescription)")
        }
    }
}

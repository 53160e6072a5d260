import Foundation

/// JSON messages of the envd Connect services `process.Process` and `filesystem.Filesystem`
/// (reference §5), in the protobuf JSON mapping: lowerCamelCase names, int64 as strings, enums as names,
/// bytes as base64. Decoders also accept numbers for int64 and enums.
enum NovitaEnvdModels {
    struct Empty: Codable, Sendable {}

    struct ProcessConfig: Encodable, Sendable {
        var cmd: String
        var args: [String]
        var envs: [String: String]?
        var cwd: String?
    }

    struct StartRequest: Encodable, Sendable {
        var process: ProcessConfig
        var stdin: Bool
    }

    struct ProcessSelector: Encodable, Sendable {
        var pid: UInt32
    }

    struct ConnectRequest: Encodable, Sendable {
        var process: ProcessSelector
    }

    struct ProcessInput: Encodable, Sendable {
        var stdin: String
    }

    struct SendInputRequest: Encodable, Sendable {
        var process: ProcessSelector
        var input: ProcessInput
    }

    struct CloseStdinRequest: Encodable, Sendable {
        var process: ProcessSelector
    }

    struct SendSignalRequest: Encodable, Sendable {
        var process: ProcessSelector
        var signal: String
    }

    struct PathRequest: Encodable, Sendable {
        var path: String
    }

    struct ListDirRequest: Encodable, Sendable {
        var path: String
        var depth: UInt32
    }

    struct MoveRequest: Encodable, Sendable {
        var source: String
        var destination: String
    }

    struct EntryResponse: Decodable, Sendable {
        var entry: EntryInfo?
    }

    struct ListDirResponse: Decodable, Sendable {
        var entries: [EntryInfo]?
    }

    /// `filesystem.EntryInfo`.
    struct EntryInfo: Decodable, Sendable {
        var name: String
        var type: String
        var path: String
        var size: Int64
        var symlinkTarget: String?

        enum CodingKeys: String, CodingKey { case name, type, path, size, symlinkTarget }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
            path = try container.decodeIfPresent(String.self, forKey: .path) ?? ""
            size = try container.decodeLenientInt64IfPresent(forKey: .size) ?? 0
            symlinkTarget = try container.decodeIfPresent(String.self, forKey: .symlinkTarget)
            if let text = try? container.decodeIfPresent(String.self, forKey: .type) {
                type = text
            } else if let number = try? container.decodeIfPresent(Int.self, forKey: .type) {
                type = number == 1 ? "FILE_TYPE_FILE" : number == 2 ? "FILE_TYPE_DIRECTORY" : "FILE_TYPE_UNSPECIFIED"
            } else {
                type = "FILE_TYPE_UNSPECIFIED"
            }
        }

        /// The backend-neutral entry.
        var fileEntry: FileEntry {
            let kind: FileEntry.Kind
            if symlinkTarget != nil {
                kind = .symlink
            } else if type == "FILE_TYPE_FILE" {
                kind = .file
            } else if type == "FILE_TYPE_DIRECTORY" {
                kind = .directory
            } else {
                kind = .other
            }
            return FileEntry(name: name, path: path, kind: kind, size: size, symlinkTarget: symlinkTarget)
        }
    }

    /// One message of a `Start` or `Connect` stream: `{"event": {...}}`.
    struct ProcessMessage: Decodable, Sendable {
        var event: ProcessEvent?
    }

    /// `process.ProcessEvent`: exactly one of its fields is set.
    struct ProcessEvent: Decodable, Sendable {
        var start: StartEvent?
        var data: DataEvent?
        var end: EndEvent?
        var keepalive: Empty?
    }

    struct StartEvent: Decodable, Sendable {
        var pid: UInt32

        enum CodingKeys: String, CodingKey { case pid }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            pid = UInt32(clamping: try container.decodeLenientInt64IfPresent(forKey: .pid) ?? 0)
        }
    }

    struct DataEvent: Decodable, Sendable {
        var stdout: String?
        var stderr: String?
        var pty: String?
    }

    struct EndEvent: Decodable, Sendable {
        var exitCode: Int32?
        var exited: Bool?
        var status: String?
        var error: String?

        enum CodingKeys: String, CodingKey { case exitCode, exited, status, error }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            exitCode = try container.decodeLenientInt64IfPresent(forKey: .exitCode).map { Int32(clamping: $0) }
            exited = try container.decodeIfPresent(Bool.self, forKey: .exited)
            status = try container.decodeIfPresent(String.self, forKey: .status)
            error = try container.decodeIfPresent(String.self, forKey: .error)
        }

        /// The exit: a missing `exitCode` means 0 (proto3 omits defaults), except after a signal.
        var commandExit: CommandExit {
            let killedBySignal = (status ?? "").hasPrefix("signal")
            let code = exitCode ?? (killedBySignal && exited != true ? -1 : 0)
            return CommandExit(code: code, status: status ?? "exit status \(code)")
        }
    }
}

extension KeyedDecodingContainer {
    /// Decodes an int64 written as a JSON string (protobuf JSON) or as a number.
    func decodeLenientInt64IfPresent(forKey key: Key) throws -> Int64? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let number = try? decode(Int64.self, forKey: key) { return number }
        let text = try decode(String.self, forKey: key)
        guard let number = Int64(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an integer: \(text)")
        }
        return number
    }
}

import Foundation

/// Maps the paths of one fake sandbox to a folder on the host and answers envd's filesystem questions.
///
/// Sandbox path `/x/y` lives at `<root>/x/y`; relative paths resolve against `/home/user`. Processes
/// see the same files at `/home/user` and `/tmp` only (they run under `bwrap` with those two folders
/// bound); other absolute paths are private to the file RPCs.
struct FakeNovitaFileSystem: Sendable {
    /// The sandbox's root folder on the host.
    let root: URL

    static let home = "/home/user"

    /// Failures, with their Connect code.
    struct Failure: Error, Sendable {
        var code: String
        var message: String
    }

    /// The absolute, normalised sandbox path (`..` cannot climb above `/`).
    func sandboxPath(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : Self.home + "/" + path
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The host URL of a sandbox path.
    func hostURL(_ path: String) -> URL {
        let normalised = sandboxPath(path)
        return normalised == "/" ? root : root.appendingPathComponent(String(normalised.dropFirst()))
    }

    /// Whether something (or a dangling symlink) is at the path.
    func exists(_ path: String) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: hostURL(path).path)) != nil
    }

    /// `filesystem.EntryInfo` as a JSON object.
    func entry(_ path: String) throws(Failure) -> [String: Any] {
        let sandbox = sandboxPath(path)
        let host = hostURL(sandbox).path
        let manager = FileManager.default
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try manager.attributesOfItem(atPath: host)
        } catch {
            throw Failure(code: "not_found", message: "no such file or directory: \(sandbox)")
        }
        var type = attributes[.type] as? FileAttributeType
        var symlinkTarget: String?
        var size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        if type == .typeSymbolicLink {
            let destination = (try? manager.destinationOfSymbolicLink(atPath: host)) ?? ""
            symlinkTarget = destination.hasPrefix(root.path) ? String(destination.dropFirst(root.path.count)) : destination
            if let resolved = try? manager.attributesOfItem(atPath: URL(fileURLWithPath: host).resolvingSymlinksInPath().path) {
                type = resolved[.type] as? FileAttributeType
                size = (resolved[.size] as? NSNumber)?.int64Value ?? size
            }
        }
        let permissions = (attributes[.posixPermissions] as? NSNumber)?.uint32Value ?? 0o644
        let isDirectory = type == .typeDirectory
        var object: [String: Any] = [
            "name": (sandbox as NSString).lastPathComponent,
            "type": isDirectory ? "FILE_TYPE_DIRECTORY" : (type == .typeRegular ? "FILE_TYPE_FILE" : "FILE_TYPE_UNSPECIFIED"),
            "path": sandbox,
            "size": String(size),
            "mode": Int(permissions | (isDirectory ? 0o20000000000 : 0)),
            "permissions": Self.permissionString(permissions, directory: isDirectory),
            "owner": "user",
            "group": "user",
        ]
        if let modified = attributes[.modificationDate] as? Date {
            object["modifiedTime"] = modified.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
        if let symlinkTarget { object["symlinkTarget"] = symlinkTarget }
        return object
    }

    /// Entries below a folder, to `depth` levels, in lexical order.
    func list(_ path: String, depth: Int) throws(Failure) -> [[String: Any]] {
        let sandbox = sandboxPath(path)
        let info = try entry(sandbox)
        guard info["type"] as? String == "FILE_TYPE_DIRECTORY" else {
            throw Failure(code: "invalid_argument", message: "path is not a directory: \(sandbox)")
        }
        var result: [[String: Any]] = []
        collect(sandbox, depth: max(1, depth), into: &result)
        return result
    }

    private func collect(_ folder: String, depth: Int, into result: inout [[String: Any]]) {
        guard depth > 0, let names = try? FileManager.default.contentsOfDirectory(atPath: hostURL(folder).path) else { return }
        for name in names.sorted() {
            let child = folder == "/" ? "/" + name : folder + "/" + name
            guard let info = try? entry(child) else { continue }
            result.append(info)
            if info["type"] as? String == "FILE_TYPE_DIRECTORY", info["symlinkTarget"] == nil {
                collect(child, depth: depth - 1, into: &result)
            }
        }
    }

    /// Creates a folder with its parents.
    func makeDirectory(_ path: String) throws(Failure) -> [String: Any] {
        if exists(path) {
            throw Failure(code: "already_exists", message: "directory already exists: \(sandboxPath(path))")
        }
        do {
            try FileManager.default.createDirectory(at: hostURL(path), withIntermediateDirectories: true)
        } catch {
            throw Failure(code: "internal", message: "cannot create directory: \(error)")
        }
        return try entry(path)
    }

    /// Moves (renames) an entry, creating the destination's parent.
    func move(_ source: String, _ destination: String) throws(Failure) -> [String: Any] {
        guard exists(source) else {
            throw Failure(code: "not_found", message: "no such file or directory: \(sandboxPath(source))")
        }
        let target = hostURL(destination)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            if FileManager.default.fileExists(atPath: target.path) {
                try FileManager.default.removeItem(at: target)
            }
            try FileManager.default.moveItem(at: hostURL(source), to: target)
        } catch {
            throw Failure(code: "internal", message: "cannot move: \(error)")
        }
        return try entry(destination)
    }

    /// Removes a file or a folder with its contents.
    func remove(_ path: String) throws(Failure) {
        guard exists(path) else {
            throw Failure(code: "not_found", message: "no such file or directory: \(sandboxPath(path))")
        }
        do {
            try FileManager.default.removeItem(at: hostURL(path))
        } catch {
            throw Failure(code: "internal", message: "cannot remove: \(error)")
        }
    }

    /// Reads a whole file.
    func read(_ path: String) throws(Failure) -> Data {
        let host = hostURL(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: host.path, isDirectory: &isDirectory) else {
            throw Failure(code: "not_found", message: "path not found: \(sandboxPath(path))")
        }
        guard !isDirectory.boolValue else {
            throw Failure(code: "invalid_argument", message: "path is a directory: \(sandboxPath(path))")
        }
        do {
            return try Data(contentsOf: host)
        } catch {
            throw Failure(code: "internal", message: "cannot read: \(error)")
        }
    }

    /// Writes a whole file, creating its parents and replacing any existing file.
    func write(_ path: String, _ data: Data) throws(Failure) {
        let host = hostURL(path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: host.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw Failure(code: "invalid_argument", message: "path is a directory: \(sandboxPath(path))")
        }
        do {
            try FileManager.default.createDirectory(at: host.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: host)
        } catch {
            throw Failure(code: "internal", message: "cannot write: \(error)")
        }
    }

    private static func permissionString(_ mode: UInt32, directory: Bool) -> String {
        var text = directory ? "d" : "-"
        let letters: [Character] = ["r", "w", "x"]
        for shift in stride(from: 8, through: 0, by: -1) {
            text.append(mode & (1 << UInt32(shift)) != 0 ? letters[(8 - shift) % 3] : "-")
        }
        return text
    }
}

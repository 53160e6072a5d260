import Foundation

/// Maps the paths of the sandbox API (`/home/user/…`, `/tmp/…`, or relative to the home) to the
/// folders of a local sandbox on the host.
///
/// Only the sandbox's home and `/tmp` are served; other absolute paths are rejected. With the
/// ``LocalSandboxProvider/Isolation/none`` mode the processes see host paths, so the host paths of
/// the two folders are accepted as well and results are named with them.
struct LocalPathMapper: Sendable, Hashable {
    /// One of the two folders the mapper serves.
    struct Area: Sendable, Hashable {
        /// Host path of the folder.
        var hostPath: String
        /// How results name the folder (`/home/user`, or the host path without isolation).
        var displayPath: String
        /// Paths that name the folder, as lexical components.
        var aliases: [[String]]
    }

    /// Path of the sandbox home inside the bubblewrap sandbox.
    static let isolatedHome = "/home/user"
    /// Path of the sandbox temporary folder inside the bubblewrap sandbox.
    static let isolatedTemporary = "/tmp"

    let home: Area
    let temporary: Area

    init(sandboxFolder: String, isolated: Bool) {
        let hostHome = sandboxFolder + "/home"
        let hostTemporary = sandboxFolder + "/tmp"
        var homeAliases = [Self.components(Self.isolatedHome)]
        var temporaryAliases = [Self.components(Self.isolatedTemporary)]
        if !isolated {
            homeAliases.append(Self.components(hostHome))
            temporaryAliases.append(Self.components(hostTemporary))
        }
        home = Area(hostPath: hostHome, displayPath: isolated ? Self.isolatedHome : hostHome, aliases: homeAliases)
        temporary = Area(hostPath: hostTemporary, displayPath: isolated ? Self.isolatedTemporary : hostTemporary, aliases: temporaryAliases)
    }

    /// Splits a path into components, dropping empty ones and `.`, and applying `..` lexically
    /// (`..` at the root stays at the root, as in the kernel).
    static func components(_ path: String) -> [String] {
        var result: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !result.isEmpty { result.removeLast() }
            default: result.append(String(part))
            }
        }
        return result
    }

    /// Makes a path absolute (relative paths are relative to the sandbox home) and normalises it.
    func absoluteComponents(_ path: String) -> [String] {
        if path.hasPrefix("/") {
            return Self.components(path)
        }
        return Self.components(home.displayPath + "/" + path)
    }

    /// Finds the area a path lies in and the components below it.
    /// - Throws: ``SandboxError/invalidArgument(_:)`` for paths outside the home and `/tmp`.
    func locate(_ path: String) throws(SandboxError) -> (area: Area, components: [String]) {
        let parts = absoluteComponents(path)
        var best: (area: Area, length: Int)?
        for area in [home, temporary] {
            for alias in area.aliases where parts.starts(with: alias) && alias.count > (best?.length ?? -1) {
                best = (area, alias.count)
            }
        }
        guard let best else {
            throw .invalidArgument("\(path) is outside the sandbox: the local backend serves only \(home.displayPath) and \(temporary.displayPath)")
        }
        return (best.area, Array(parts.dropFirst(best.length)))
    }

    /// The name results use for a location.
    func display(_ area: Area, _ components: [String]) -> String {
        components.isEmpty ? area.displayPath : area.displayPath + "/" + components.joined(separator: "/")
    }

    /// The host path of a location.
    func hostPath(_ area: Area, _ components: [String]) -> String {
        components.isEmpty ? area.hostPath : area.hostPath + "/" + components.joined(separator: "/")
    }

    /// The host path of a path when it lies in the home or `/tmp`, else `nil`.
    func hostPathIfInside(_ path: String) -> String? {
        guard let (area, parts) = try? locate(path) else { return nil }
        return hostPath(area, parts)
    }
}

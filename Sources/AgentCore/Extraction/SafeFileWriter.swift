import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files strictly inside one folder, whatever names it is given.
///
/// Every path is checked (no absolute paths, no `..` or `.`, no empty or over-long components,
/// no NUL) and then written through directory file descriptors opened with `O_NOFOLLOW`, so a
/// symbolic link — even one created by someone else after the check — can never redirect a
/// write outside the folder.
public struct SafeFileWriter: Sendable {
    /// The folder everything is written under. It is created if missing.
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    /// Why a path was refused.
    public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        case absolute
        case parentReference
        case emptyComponent
        case nameTooLong
        case invalidCharacter
        case notADirectory(String)
        case io(String)

        public var description: String {
            switch self {
            case .absolute: return "absolute path"
            case .parentReference: return "path contains '..' or '.'"
            case .emptyComponent: return "path has an empty component"
            case .nameTooLong: return "path or name too long"
            case .invalidCharacter: return "path contains a NUL byte"
            case .notADirectory(let c): return "'\(c)' is not a plain folder (symlink or file)"
            case .io(let m): return m
            }
        }
    }

    /// Checks a relative path and returns its components.
    public static func validate(_ relativePath: String) throws(Refusal) -> [String] {
        if relativePath.hasPrefix("/") { throw .absolute }
        if relativePath.utf8.contains(0) { throw .invalidCharacter }
        if relativePath.utf8.count > 3072 { throw .nameTooLong }
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for component in components {
            if component.isEmpty { throw .emptyComponent }
            if component == ".." || component == "." { throw .parentReference }
            if component.utf8.count > 255 { throw .nameTooLong }
        }
        return components
    }

    /// Writes `data` at `relativePath` under the root, creating folders as needed. Files and
    /// folders are private to the user by default (0600 and 0700).
    public func write(_ data: Data, to relativePath: String, mode: mode_t = 0o600) throws(Refusal) {
        let components = try Self.validate(relativePath)
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io("cannot create \(root.path): \(error.localizedDescription)")
        }
        var dirFD = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { throw .io("cannot open \(root.path): \(String(cString: strerror(errno)))") }
        defer { close(dirFD) }
        for component in components.dropLast() {
            if mkdirat(dirFD, component, 0o700) != 0 && errno != EEXIST {
                throw .io("cannot create folder '\(component)': \(String(cString: strerror(errno)))")
            }
            let next = openat(dirFD, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { throw .notADirectory(component) }
            close(dirFD)
            dirFD = next
        }
        let name = components.last!
        let fd = openat(dirFD, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == ELOOP { throw .notADirectory(name) }
            throw .io("cannot write '\(relativePath)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var offset = 0
        let failed: Bool = data.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return true }
                offset += n
            }
            return false
        }
        if failed { throw .io("cannot write '\(relativePath)': \(String(cString: strerror(errno)))") }
    }
}

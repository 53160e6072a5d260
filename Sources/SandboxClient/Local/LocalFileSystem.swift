import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File operations on the folders of a local sandbox that never reach outside them.
///
/// Paths are resolved one component at a time with `openat`/`fstatat` and `O_NOFOLLOW`, starting
/// from the sandbox's home or `/tmp` folder. Symbolic links are followed only while they stay in
/// those folders: a link to `/etc/passwd` makes reads and writes fail instead of touching the host
/// file, and `..` cannot climb above the folder. Because every step opens the next folder relative
/// to the previous one without following links, a process in the sandbox that swaps a folder for a
/// link mid-way makes the operation fail rather than escape.
struct LocalFileSystem: Sendable {
    /// Most symbolic links followed while resolving one path (as the kernel's `MAXSYMLINKS`).
    static let maximumSymbolicLinks = 40
    /// Deepest listing served by ``listDirectory(_:depth:)``.
    static let maximumListingDepth = 64


    let mapper: LocalPathMapper
    /// Owner given to every file and folder created here (the sandbox's user, when ca runs as
    /// root), so the sandbox can change what ca put there.
    let owner: LocalSandboxUser?

    init(mapper: LocalPathMapper, owner: LocalSandboxUser? = nil) {
        self.mapper = mapper
        self.owner = owner
    }

    /// Gives a new entry of `folder` to ``owner``.
    private func own(_ folder: Int32, _ name: String) {
        if let owner { _ = fchownat(folder, name, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) }
    }

    // MARK: Operations

    /// Reads a whole regular file, following links that stay in the sandbox. Its size is checked
    /// with `fstat` before reading and again while reading (it may grow meanwhile).
    func readFile(_ path: String, maximumSize: Int = .max) throws(SandboxError) -> Data {
        let location = try resolve(path, followFinal: true, createParents: false)
        guard let name = location.name else {
            throw .invalidArgument("\(location.display) is a folder")
        }
        let fd = openat(location.folder.fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw LocalPOSIX.failure(location.display, errno)
        }
        let file = Descriptor(fd)
        var info = LocalPOSIX.FileStatus()
        guard fstat(file.fd, &info) == 0 else {
            throw LocalPOSIX.failure(location.display, errno)
        }
        guard Self.kind(of: info) == .file else {
            throw .invalidArgument("\(location.display) is not a regular file")
        }
        guard info.st_size <= maximumSize else {
            throw .limitReached("\(location.display) is \(info.st_size) bytes, over the \(maximumSize)-byte limit")
        }
        return try LocalPOSIX.readToEnd(file.fd, subject: location.display, limit: maximumSize)
    }

    /// Writes a whole file atomically (temporary file then rename), creating parent folders and
    /// keeping the permissions of a file it replaces.
    func writeFile(_ path: String, contents: Data) throws(SandboxError) {
        let location = try resolve(path, followFinal: true, createParents: true)
        guard let name = location.name else {
            throw .invalidArgument("\(location.display) is a folder")
        }
        let folder = location.folder.fd
        var permissions: mode_t = 0o644
        var existing = LocalPOSIX.FileStatus()
        if fstatat(folder, name, &existing, AT_SYMLINK_NOFOLLOW) == 0 {
            switch Self.kind(of: existing) {
            case .directory: throw .invalidArgument("\(location.display) is a folder")
            case .file: permissions = existing.st_mode & 0o7777
            default: break
            }
        }
        let temporaryName = ".ca-write-" + Self.randomSuffix()
        let fd = openat(folder, temporaryName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw LocalPOSIX.failure(location.display, errno)
        }
        do throws(SandboxError) {
            let file = Descriptor(fd)
            try LocalPOSIX.writeAll(file.fd, contents, subject: location.display)
            _ = fchmod(file.fd, permissions)
            if let owner { _ = fchown(file.fd, owner.uid, owner.gid) }
        } catch {
            _ = unlinkat(folder, temporaryName, 0)
            throw error
        }
        guard renameat(folder, temporaryName, folder, name) == 0 else {
            let code = errno
            _ = unlinkat(folder, temporaryName, 0)
            throw LocalPOSIX.failure(location.display, code)
        }
    }

    /// Lists a folder to `depth` levels (1 = its direct entries), entries sorted by name, each
    /// folder's entries right after it. Links are reported, not followed.
    func listDirectory(_ path: String, depth: Int) throws(SandboxError) -> [FileEntry] {
        let location = try resolve(path, followFinal: true, createParents: false)
        let folder: Descriptor
        if let name = location.name {
            let fd = openat(location.folder.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else {
                let code = errno
                if code == ENOTDIR || code == ELOOP {
                    throw .invalidArgument("\(location.display) is not a folder")
                }
                throw LocalPOSIX.failure(location.display, code)
            }
            folder = Descriptor(fd)
        } else {
            folder = location.folder
        }
        var entries: [FileEntry] = []
        try collect(folder.fd, display: location.display, depth: min(max(1, depth), Self.maximumListingDepth), into: &entries)
        return entries
    }

    /// The entry at a path without following a final link, or `nil` when nothing is there.
    func stat(_ path: String) throws(SandboxError) -> FileEntry? {
        let location: Location
        do throws(SandboxError) {
            location = try resolve(path, followFinal: false, createParents: false)
        } catch {
            if case .fileNotFound = error { return nil }
            throw error
        }
        var info = LocalPOSIX.FileStatus()
        guard let name = location.name else {
            guard fstat(location.folder.fd, &info) == 0 else {
                throw LocalPOSIX.failure(location.display, errno)
            }
            let lastComponent = location.display.split(separator: "/").last.map(String.init) ?? "/"
            return Self.entry(name: lastComponent, path: location.display, info: info, linkTarget: nil)
        }
        guard fstatat(location.folder.fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw LocalPOSIX.failure(location.display, code)
        }
        let target = Self.kind(of: info) == .symlink ? try? Self.readLink(location.folder.fd, name, subject: location.display) : nil
        return Self.entry(name: name, path: location.display, info: info, linkTarget: target)
    }

    /// Creates a folder and its parents. Returns `false` when the folder already existed.
    func makeDirectory(_ path: String) throws(SandboxError) -> Bool {
        let location = try resolve(path, followFinal: true, createParents: true)
        guard let name = location.name else {
            return false
        }
        if mkdirat(location.folder.fd, name, 0o755) == 0 {
            own(location.folder.fd, name)
            return true
        }
        let code = errno
        guard code == EEXIST else {
            throw LocalPOSIX.failure(location.display, code)
        }
        var info = LocalPOSIX.FileStatus()
        if fstatat(location.folder.fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0, Self.kind(of: info) == .directory {
            return false
        }
        throw .invalidArgument("\(location.display) exists and is not a folder")
    }

    /// Removes a file, a link (not its target) or a folder with its contents. Removing nothing is
    /// not an error; removing the home or `/tmp` itself is.
    func remove(_ path: String) throws(SandboxError) {
        let location: Location
        do throws(SandboxError) {
            location = try resolve(path, followFinal: false, createParents: false)
        } catch {
            if case .fileNotFound = error { return }
            throw error
        }
        guard let name = location.name else {
            throw .invalidArgument("\(location.display) cannot be removed")
        }
        try Self.removeTree(in: location.folder.fd, name: name, subject: location.display)
    }

    // MARK: Removing trees

    /// Removes a host folder and everything in it without following links.
    static func removeHostFolder(_ hostPath: String) throws(SandboxError) {
        let parts = LocalPathMapper.components(hostPath)
        guard let name = parts.last else {
            throw .invalidArgument("refusing to remove /")
        }
        let parentPath = "/" + parts.dropLast().joined(separator: "/")
        let fd = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return }
            throw LocalPOSIX.failure(parentPath, errno)
        }
        let parent = Descriptor(fd)
        try removeTree(in: parent.fd, name: name, subject: hostPath)
    }

    /// Removes `name` in the folder `parent`: unlinks files and links, empties and removes folders,
    /// never following a link and with a bounded number of open descriptors (see ``LocalTreeRemoval``).
    static func removeTree(in parent: Int32, name: String, subject: String) throws(SandboxError) {
        var removal = LocalTreeRemoval()
        try removal.remove(in: parent, name: name, subject: subject)
    }

    // MARK: Resolution

    /// An open folder and a name in it, or the folder itself when `name` is `nil`.
    private struct Location {
        var folder: Descriptor
        var name: String?
        var display: String
    }

    /// Owns a file descriptor and closes it when released.
    private final class Descriptor {
        let fd: Int32
        init(_ fd: Int32) { self.fd = fd }
        deinit { LocalPOSIX.close(fd) }
    }

    /// Walks `path` from its area folder, component by component, never following a link that
    /// leaves the sandbox.
    /// - Parameters:
    ///   - followFinal: whether a link in the last position is followed too.
    ///   - createParents: whether missing folders on the way are created.
    private func resolve(_ path: String, followFinal: Bool, createParents: Bool) throws(SandboxError) -> Location {
        var (area, components) = try mapper.locate(path)
        let display = mapper.display(area, components)
        var queue = Array(components.reversed())
        var followedLinks = 0
        restart: while true {
            let areaFD = open(area.hostPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard areaFD >= 0 else {
                let code = errno
                if code == ENOENT { throw .sandboxNotFound("its folder \(area.hostPath) is gone") }
                throw LocalPOSIX.failure(area.hostPath, code)
            }
            var stack = [Descriptor(areaFD)]
            while let name = queue.popLast() {
                if name.isEmpty || name == "." { continue }
                if name == ".." {
                    guard stack.count > 1 else {
                        throw .invalidArgument("\(path) leads outside the sandbox")
                    }
                    stack.removeLast()
                    continue
                }
                let isLast = queue.isEmpty
                let current = stack[stack.count - 1].fd
                var info = LocalPOSIX.FileStatus()
                if fstatat(current, name, &info, AT_SYMLINK_NOFOLLOW) != 0 {
                    let code = errno
                    guard code == ENOENT else { throw LocalPOSIX.failure(display, code) }
                    if isLast { return Location(folder: stack[stack.count - 1], name: name, display: display) }
                    guard createParents else { throw .fileNotFound(display) }
                    if mkdirat(current, name, 0o755) == 0 {
                        own(current, name)
                    } else if errno != EEXIST {
                        throw LocalPOSIX.failure(display, errno)
                    }
                } else if Self.kind(of: info) == .symlink && (!isLast || followFinal) {
                    followedLinks += 1
                    guard followedLinks <= Self.maximumSymbolicLinks else {
                        throw .invalidArgument("\(display): too many levels of symbolic links")
                    }
                    let target = try Self.readLink(current, name, subject: display)
                    if target.hasPrefix("/") {
                        guard let located = try? mapper.locate(target) else {
                            throw .invalidArgument("\(display) leads through a symbolic link to \(target), outside the sandbox")
                        }
                        area = located.area
                        queue.append(contentsOf: located.components.reversed())
                        continue restart
                    }
                    queue.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
                    continue
                } else if isLast {
                    return Location(folder: stack[stack.count - 1], name: name, display: display)
                }
                let next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard next >= 0 else {
                    let code = errno
                    if code == ENOTDIR || code == ELOOP {
                        throw .invalidArgument("\(display): \(name) is not a folder")
                    }
                    throw LocalPOSIX.failure(display, code)
                }
                stack.append(Descriptor(next))
            }
            return Location(folder: stack[stack.count - 1], name: nil, display: display)
        }
    }

    // MARK: Helpers

    private func collect(_ folder: Int32, display: String, depth: Int, into entries: inout [FileEntry]) throws(SandboxError) {
        for name in try Self.names(in: folder, subject: display) {
            var info = LocalPOSIX.FileStatus()
            guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let childDisplay = display == "/" ? "/" + name : display + "/" + name
            let kind = Self.kind(of: info)
            let target = kind == .symlink ? try? Self.readLink(folder, name, subject: childDisplay) : nil
            entries.append(Self.entry(name: name, path: childDisplay, info: info, linkTarget: target))
            guard kind == .directory && depth > 1 else { continue }
            let fd = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            let child = Descriptor(fd)
            try collect(child.fd, display: childDisplay, depth: depth - 1, into: &entries)
        }
    }

    /// Names in an open folder, sorted, without `.` and `..`.
    static func names(in folder: Int32, subject: @autoclosure () -> String) throws(SandboxError) -> [String] {
        let copy = dup(folder)
        guard copy >= 0 else {
            let code = errno
            throw LocalPOSIX.failure(subject(), code)
        }
        guard let stream = fdopendir(copy) else {
            let code = errno
            LocalPOSIX.close(copy)
            throw LocalPOSIX.failure(subject(), code)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var result: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: pointer.pointee)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." {
                result.append(name)
            }
        }
        return result.sorted()
    }

    private static func readLink(_ folder: Int32, _ name: String, subject: String) throws(SandboxError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(folder, name, &buffer, buffer.count - 1)
        guard count >= 0 else { throw LocalPOSIX.failure(subject, errno) }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func kind(of info: LocalPOSIX.FileStatus) -> FileEntry.Kind {
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    private static func entry(name: String, path: String, info: LocalPOSIX.FileStatus, linkTarget: String?) -> FileEntry {
        FileEntry(name: name, path: path, kind: kind(of: info), size: Int64(info.st_size), symlinkTarget: linkTarget)
    }

    private static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 16)
    }
}

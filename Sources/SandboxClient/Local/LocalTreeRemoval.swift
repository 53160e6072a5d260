import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Deletes a file, a link or a folder tree without following symbolic links, holding a bounded
/// number of descriptors however deep the tree is.
///
/// The walk is iterative. It keeps at most the current folder open (plus, for a moment, its
/// parent or child, a listing's duplicate and an `O_PATH` handle): each level on the way down is
/// remembered by its name, its identity (device and inode) and the names still to remove in it.
/// It descends with `openat(…, O_NOFOLLOW | O_DIRECTORY)` and climbs back with `openat(…, "..")`,
/// checking that the folder reached is the one it came from; when someone moved a folder while
/// the walk was in it, the removal stops with an error instead of emptying another folder.
///
/// Links, files, sockets and FIFOs are unlinked, never followed. A folder its owner made
/// unreadable or unwritable (mode `000`) is opened as an `O_PATH` handle, checked to be a folder,
/// given `0700` through `/proc/self/fd/<n>` (which acts on that very inode, so a link swapped in
/// cannot redirect it) and then opened for reading.
struct LocalTreeRemoval {
    /// Called after each step down with the new depth (the top folder is depth 1) and the
    /// descriptor of the folder just entered. For tests.
    var afterDescending: ((_ depth: Int, _ folder: Int32) -> Void)?

    /// The most descriptors this removal held open at the same time.
    private(set) var peakDescriptors = 0
    private var openDescriptors = 0

    init() {}

    /// Device and inode of a folder: what proves that `..` leads back to where we came from.
    private struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64

        init(_ info: LocalPOSIX.FileStatus) {
            device = UInt64(truncatingIfNeeded: info.st_dev)
            inode = UInt64(truncatingIfNeeded: info.st_ino)
        }
    }

    /// A folder on the way down.
    private struct Level {
        /// Its name in its parent.
        var name: String
        var identity: Identity
        /// Entries not removed yet.
        var remaining: [String]
    }

    /// Removes `name` in the folder `parent` (a file, a link, or a folder and everything in it).
    /// Removing nothing is not an error.
    /// - Parameter subject: how to name `name` in errors (entries below it are named from it).
    mutating func remove(in parent: Int32, name: String, subject: String) throws(SandboxError) {
        var info = LocalPOSIX.FileStatus()
        guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            let code = errno
            if code == ENOENT { return }
            throw LocalPOSIX.failure(subject, code)
        }
        guard Self.isDirectory(info) else {
            guard unlinkat(parent, name, 0) == 0 || errno == ENOENT else {
                let code = errno
                throw LocalPOSIX.failure(subject, code)
            }
            return
        }

        var levels: [Level] = []
        /// The path of `child` in the current folder, for errors.
        func display(_ child: String?) -> String {
            var parts = [subject]
            parts += levels.dropFirst().map(\.name)
            if let child { parts.append(child) }
            return parts.joined(separator: "/")
        }

        var current: Int32 = -1
        defer { close(current) }
        let top = try openFolder(in: parent, name: name, subject: { subject })
        current = top.fd
        levels.append(Level(name: name, identity: top.identity, remaining: try listing(current, subject: { subject })))
        afterDescending?(1, current)

        while !levels.isEmpty {
            if let child = levels[levels.count - 1].remaining.popLast() {
                var childInfo = LocalPOSIX.FileStatus()
                guard fstatat(current, child, &childInfo, AT_SYMLINK_NOFOLLOW) == 0 else {
                    let code = errno
                    if code == ENOENT { continue }
                    throw LocalPOSIX.failure(display(child), code)
                }
                guard Self.isDirectory(childInfo) else {
                    guard unlinkat(current, child, 0) == 0 || errno == ENOENT else {
                        let code = errno
                        throw LocalPOSIX.failure(display(child), code)
                    }
                    continue
                }
                let opened: (fd: Int32, identity: Identity)
                do throws(SandboxError) {
                    opened = try openFolder(in: current, name: child, subject: { display(child) })
                } catch {
                    // Gone since it was listed: nothing left to remove.
                    if case .fileNotFound = error { continue }
                    throw error
                }
                let names: [String]
                do throws(SandboxError) {
                    names = try listing(opened.fd, subject: { display(child) })
                } catch {
                    close(opened.fd)
                    throw error
                }
                // Only names and identities are kept for the levels above: the parent is closed.
                close(current)
                current = opened.fd
                levels.append(Level(name: child, identity: opened.identity, remaining: names))
                afterDescending?(levels.count, current)
                continue
            }

            // The current folder is empty: climb to its parent and remove it there.
            let finished = levels.removeLast()
            guard let above = levels.last else {
                close(current)
                current = -1
                guard unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                    let code = errno
                    throw LocalPOSIX.failure(subject, code)
                }
                return
            }
            let up = openat(current, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard up >= 0 else {
                let code = errno
                throw LocalPOSIX.failure(display(finished.name), code)
            }
            opened()
            var upInfo = LocalPOSIX.FileStatus()
            guard fstat(up, &upInfo) == 0, Identity(upInfo) == above.identity else {
                close(up)
                throw .io("\(display(finished.name)): a folder was moved while it was being removed; stopped")
            }
            close(current)
            current = up
            guard unlinkat(current, finished.name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                let code = errno
                throw LocalPOSIX.failure(display(finished.name), code)
            }
        }
    }

    // MARK: Helpers

    /// Opens the folder `name` in `folder` for reading without following a link, first giving
    /// its owner (us) read, write and search permission when it lacks them, and makes it
    /// writable so that it can be emptied.
    private mutating func openFolder(in folder: Int32, name: String, subject: () -> String) throws(SandboxError) -> (fd: Int32, identity: Identity) {
        var fd = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 {
            opened()
        } else {
            let code = errno
            guard code == EACCES else {
                throw LocalPOSIX.failure(subject(), code)
            }
            fd = try openAfterGrantingAccess(in: folder, name: name, subject: subject)
        }
        var info = LocalPOSIX.FileStatus()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw LocalPOSIX.failure(subject(), code)
        }
        // A folder without write permission cannot be emptied; we are removing it anyway.
        if info.st_mode & 0o700 != 0o700 {
            _ = fchmod(fd, (info.st_mode & 0o7777) | 0o700)
        }
        return (fd, Identity(info))
    }

    /// Gives a folder we cannot open (mode `000`) the permissions to be emptied, and opens it
    /// (the returned descriptor is counted).
    private mutating func openAfterGrantingAccess(in folder: Int32, name: String, subject: () -> String) throws(SandboxError) -> Int32 {
        #if os(Linux)
        let handle = openat(folder, name, Self.openPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard handle >= 0 else {
            let code = errno
            throw LocalPOSIX.failure(subject(), code)
        }
        opened()
        defer { close(handle) }
        var info = LocalPOSIX.FileStatus()
        guard fstat(handle, &info) == 0 else {
            let code = errno
            throw LocalPOSIX.failure(subject(), code)
        }
        guard Self.isDirectory(info) else {
            throw .invalidArgument("\(subject()): is not a folder")
        }
        // chmod on the descriptor's /proc entry changes the inode the handle holds: no name is
        // looked up again, so nothing swapped in meanwhile can redirect it.
        guard chmod("/proc/self/fd/\(handle)", (info.st_mode & 0o7777) | 0o700) == 0 else {
            let code = errno
            if code == ENOENT {
                throw .io("\(subject()): cannot make it readable to remove it: /proc is not mounted")
            }
            throw LocalPOSIX.failure(subject(), code)
        }
        let fd = openat(handle, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw LocalPOSIX.failure(subject(), code)
        }
        opened()
        return fd
        #else
        guard fchmodat(folder, name, 0o700, AT_SYMLINK_NOFOLLOW) == 0 else {
            let code = errno
            throw LocalPOSIX.failure(subject(), code)
        }
        let fd = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw LocalPOSIX.failure(subject(), code)
        }
        opened()
        return fd
        #endif
    }

    /// The names in an open folder (reading holds one duplicate descriptor for a moment).
    private mutating func listing(_ folder: Int32, subject: () -> String) throws(SandboxError) -> [String] {
        opened()
        defer { openDescriptors -= 1 }
        return try LocalFileSystem.names(in: folder, subject: subject()).reversed()
    }

    /// Counts a descriptor just opened.
    private mutating func opened() {
        openDescriptors += 1
        peakDescriptors = max(peakDescriptors, openDescriptors)
    }

    /// Closes a descriptor this removal opened (nothing for `-1`).
    private mutating func close(_ fd: Int32) {
        guard fd >= 0 else { return }
        LocalPOSIX.close(fd)
        openDescriptors -= 1
    }

    private static func isDirectory(_ info: LocalPOSIX.FileStatus) -> Bool {
        info.st_mode & S_IFMT == S_IFDIR
    }

    #if os(Linux)
    /// `O_PATH` (the Glibc module does not export it); this value holds on every Linux
    /// architecture Swift supports.
    private static let openPath: Int32 = 0o10000000
    #endif
}

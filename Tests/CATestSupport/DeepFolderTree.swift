import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds and inspects folder chains deeper than `PATH_MAX` allows to name in one path, one
/// `mkdirat`/`openat` step at a time (the process's working directory is never changed).
public enum DeepFolderTree {
    /// A failed system call while building.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Creates `depth` nested folders named `name` under `base` (which must exist) and a file
    /// `bottom.txt` holding `bottom` in the deepest one.
    public static func make(under base: String, depth: Int, name: String = "x", bottom: String = "bottom\n") throws {
        var current = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard current >= 0 else { throw failure("open \(base)") }
        defer { close(current) }
        for level in 0..<depth {
            guard mkdirat(current, name, 0o755) == 0 || errno == EEXIST else { throw failure("mkdir at depth \(level)") }
            let next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { throw failure("open at depth \(level)") }
            close(current)
            current = next
        }
        let file = openat(current, "bottom.txt", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard file >= 0 else { throw failure("create bottom.txt") }
        defer { close(file) }
        let written = bottom.utf8CString.withUnsafeBufferPointer { write(file, $0.baseAddress, $0.count - 1) }
        guard written == bottom.utf8.count else { throw failure("write bottom.txt") }
    }

    /// How many folders named `name` are nested under `base` (0 when there is none).
    public static func depth(under base: String, name: String = "x") -> Int {
        var current = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard current >= 0 else { return 0 }
        var count = 0
        while true {
            let next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(current)
            guard next >= 0 else { return count }
            current = next
            count += 1
        }
    }

    /// The targets of this process's open descriptors (`/proc/self/fd`), such as
    /// `/tmp/x (deleted)` for a removed folder still held open.
    public static func openDescriptorTargets() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
    }

    private static func failure(_ step: String) -> Failure {
        Failure(description: "\(step): \(String(cString: strerror(errno)))")
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads files strictly inside one folder by relative path: every component is checked (see
/// ``SafeFileWriter/validate(_:)``) and opened with `O_NOFOLLOW` from the previous folder's
/// descriptor, so no symbolic link, `..` or absolute path leads elsewhere. Sizes are bounded.
public struct SafeFileReader: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    /// The contents of a regular file, or `nil` when there is no such file (or it is not
    /// plain, or larger than `maximumSize`).
    public func read(_ relativePath: String, maximumSize: Int) -> Data? {
        guard let components = try? SafeFileWriter.validate(relativePath) else { return nil }
        var folder = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return nil }
        defer { close(folder) }
        for component in components.dropLast() {
            let next = openat(folder, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { return nil }
            close(folder)
            folder = next
        }
        let fd = openat(folder, components[components.count - 1], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= maximumSize else { return nil }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                guard data.count + count <= maximumSize else { return nil }
                data.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                return data
            } else if errno != EINTR {
                return nil
            }
        }
    }
}

import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A host socket that a hostile agent's probe tries to reach: a TCP port on 127.0.0.1, a Unix
/// socket at a path, or an abstract Unix socket. It accepts connections on a thread of its own,
/// answers `probe-ok`, and counts them, so a test can tell from the host side too whether a
/// probe got through.
public final class ProbeListener: Sendable {
    /// Where it listens.
    public enum Address: Sendable, Hashable {
        case loopbackTCP
        case unixPath(String)
        case abstract(String)
    }

    public let address: Address
    /// The TCP port (for ``Address/loopbackTCP``), else 0.
    public let port: Int
    private let fd: Int32
    private let state = State()

    private final class State: Sendable {
        let accepted = Mutex(0)
        let stopped = Mutex(false)
    }

    /// Connections accepted so far.
    public var connections: Int { state.accepted.withLock { $0 } }

    public init(_ address: Address) throws {
        self.address = address
        switch address {
        case .loopbackTCP:
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
            let result = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard result == 0, listen(fd, 16) == 0 else { throw GitFixture.Failure(description: "cannot listen on 127.0.0.1: \(errno)") }
            var bound = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            self.fd = fd
            self.port = Int(UInt16(bigEndian: bound.sin_port))
        case .unixPath(let path), .abstract(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(path.utf8)
            if case .abstract = address { bytes.insert(0, at: 0) } else { unlink(path) }
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: bytes.prefix(raw.count - 1)) }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
            let result = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            guard result == 0, listen(fd, 16) == 0 else { throw GitFixture.Failure(description: "cannot listen on \(path): \(errno)") }
            if case .unixPath = address { chmod(path, 0o777) }
            self.fd = fd
            self.port = 0
        }
        let fd = self.fd
        let state = self.state
        let thread = Thread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if state.stopped.withLock({ $0 }) { return }
                    continue
                }
                state.accepted.withLock { $0 += 1 }
                _ = "probe-ok\n".withCString { write(client, $0, 9) }
                close(client)
            }
        }
        thread.start()
    }

    /// Stops listening (and removes a socket file).
    public func stop() {
        state.stopped.withLock { $0 = true }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        if case .unixPath(let path) = address { unlink(path) }
    }
}

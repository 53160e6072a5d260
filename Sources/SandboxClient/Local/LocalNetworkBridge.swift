import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The part of ca that runs *inside* a local sandbox to give it ca's network gateway.
///
/// A sandbox has its own, empty network namespace. The gateway listens on a Unix socket on the
/// host that is bound into the sandbox; the bridge serves it as `127.0.0.1:<port>` inside, so
/// that ordinary clients (`HTTPS_PROXY`, `ANTHROPIC_BASE_URL`) can use it, then runs the
/// sandbox's command and exits with its status. For ssh it also works as a `ProxyCommand` that
/// tunnels stdin and stdout to `host:port` through the gateway.
///
/// The `ca` executable runs it (`ca _sandbox-bridge …`), so no other program is needed in the
/// sandbox. Every connection is relayed byte for byte by a thread of its own.
public enum LocalNetworkBridge {
    /// The command-line word that selects the bridge.
    public static let commandName = "_sandbox-bridge"

    /// Runs the bridge from `arguments` (everything after ``commandName``) and never returns:
    /// - `serve --socket PATH --port N -- COMMAND [ARGS…]`
    /// - `connect --socket PATH HOST PORT`
    public static func main(_ arguments: [String]) -> Never {
        signal(SIGPIPE, SIG_IGN)
        switch arguments.first {
        case "serve":
            guard let separator = arguments.firstIndex(of: "--"), separator + 1 < arguments.count,
                  let socket = value(of: "--socket", in: arguments[..<separator]),
                  let port = value(of: "--port", in: arguments[..<separator]).flatMap({ Int($0) }) else { usage() }
            serve(socketPath: socket, port: port, command: Array(arguments[(separator + 1)...]))
        case "connect":
            guard arguments.count == 5, arguments[1] == "--socket", let port = Int(arguments[4]) else { usage() }
            connect(socketPath: arguments[2], host: arguments[3], port: port)
        default:
            usage()
        }
    }

    private static func usage() -> Never {
        fail("usage: ca \(commandName) serve --socket PATH --port N -- COMMAND… | connect --socket PATH HOST PORT")
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("ca bridge: \(message)\n".utf8))
        exit(126)
    }

    private static func value(of flag: String, in arguments: ArraySlice<String>) -> String? {
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.endIndex else { return nil }
        return arguments[index + 1]
    }

    // MARK: serve

    private static func serve(socketPath: String, port: Int, command: [String]) -> Never {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { fail("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 128) == 0 else { fail("cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }

        let acceptor = Thread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE { usleep(1000); continue }
                    return
                }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                let relay = Thread {
                    let upstream = connectUnix(socketPath)
                    if upstream >= 0 {
                        pump(client, upstream)
                        close(upstream)
                    }
                    close(client)
                }
                relay.stackSize = 256 << 10
                relay.start()
            }
        }
        acceptor.stackSize = 256 << 10
        acceptor.start()

        var pid: pid_t = 0
        let code = withCStrings(command) { argv in posix_spawnp(&pid, command[0], nil, nil, argv, environ) }
        guard code == 0 else { fail("cannot start \(command[0]): \(String(cString: strerror(code)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { fail("waitpid: \(String(cString: strerror(errno)))") }
        }
        let signalNumber = status & 0x7F
        if signalNumber != 0 {
            // End the same way, so whoever waits for the sandbox sees the signal.
            signal(signalNumber, SIG_DFL)
            raise(signalNumber)
            exit(128 + signalNumber)
        }
        exit((status >> 8) & 0xFF)
    }

    // MARK: connect

    private static func connect(socketPath: String, host: String, port: Int) -> Never {
        let upstream = connectUnix(socketPath)
        guard upstream >= 0 else { fail("cannot reach ca's gateway at \(socketPath): \(String(cString: strerror(errno)))") }
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        guard writeAll(upstream, Array("CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n\r\n".utf8)) else { fail("gateway closed") }
        // Read the response head byte by byte, so nothing of the tunnel is consumed.
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) {
            guard read(upstream, &byte, 1) == 1, head.count < 16_384 else { fail("the gateway closed the connection") }
            head.append(byte)
        }
        let statusLine = String(decoding: head.prefix { $0 != 13 }, as: UTF8.self)
        guard statusLine.split(separator: " ").dropFirst().first == "200" else { fail("the gateway refused \(authority): \(statusLine)") }
        pump(STDIN_FILENO, upstream, second: STDOUT_FILENO)
        exit(0)
    }

    // MARK: Plumbing

    /// Copies bytes both ways between `a` and `b` until both directions ended (`secondOut`
    /// replaces `a` as the destination of `b`'s bytes, for stdin/stdout pairs).
    private static func pump(_ a: Int32, _ b: Int32, second secondOut: Int32? = nil) {
        let aOut = secondOut ?? a
        var fds = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while fds.contains(where: { $0.fd >= 0 }) {
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { return }
            for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                let source = fds[index].fd
                let destination = index == 0 ? b : aOut
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count > 0 {
                    if !writeAll(destination, Array(buffer[0..<count])) { return }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    // End of this direction: pass the half-close on.
                    if destination == aOut && secondOut != nil { close(destination) } else { shutdown(destination, Int32(SHUT_WR)) }
                    fds[index].fd = -1
                }
                fds[index].revents = 0
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    private static func connectUnix(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { close(fd); return -1 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { close(fd); return -1 }
        return fd
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}

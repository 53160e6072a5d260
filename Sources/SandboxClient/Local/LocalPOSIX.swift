import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small wrappers over the POSIX calls of the local backend.
enum LocalPOSIX {
    #if canImport(Glibc)
    /// The C `struct stat` (the bare name clashes with the `stat` functions).
    typealias FileStatus = Glibc.stat
    #elseif canImport(Musl)
    typealias FileStatus = Musl.stat
    #else
    typealias FileStatus = Darwin.stat
    #endif

    /// The text of an `errno` value.
    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// A ``SandboxError`` for a failed call: `ENOENT` becomes ``SandboxError/fileNotFound(_:)``.
    static func failure(_ subject: String, _ code: Int32) -> SandboxError {
        switch code {
        case ENOENT: return .fileNotFound(subject)
        case ENOTDIR: return .invalidArgument("\(subject): a parent is not a folder")
        case EISDIR: return .invalidArgument("\(subject): is a folder")
        case ELOOP: return .invalidArgument("\(subject): is a symbolic link")
        default: return .io("\(subject): \(describe(code))")
        }
    }

    /// Closes a descriptor, ignoring errors.
    static func close(_ fd: Int32) {
        if fd >= 0 {
            _ = systemClose(fd)
        }
    }

    private static func systemClose(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        return Glibc.close(fd)
        #elseif canImport(Musl)
        return Musl.close(fd)
        #else
        return Darwin.close(fd)
        #endif
    }

    /// Creates a pipe whose ends are both close-on-exec (so that processes started at the same time
    /// by other threads do not inherit them and keep them open).
    static func makePipe() throws(SandboxError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw .io("cannot create a pipe: \(describe(errno))")
        }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }

    /// Creates (or truncates) a host file, 0644, without following a symbolic link, and writes `data`.
    static func writeFile(_ path: String, _ data: Data) throws(SandboxError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(path, errno) }
        defer { close(fd) }
        try writeAll(fd, data, subject: path)
    }

    /// Reads a descriptor to its end, or until `limit` bytes: more than that throws
    /// ``SandboxError/limitReached(_:)`` without reading the rest.
    static func readToEnd(_ fd: Int32, subject: String, limit: Int = .max) throws(SandboxError) -> Data {
        var result = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                guard count <= limit - result.count else {
                    throw .limitReached("\(subject) is larger than \(limit) bytes")
                }
                result.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                return result
            } else if errno != EINTR {
                throw failure(subject, errno)
            }
        }
    }

    /// Writes every byte of `data`, retrying short writes.
    static func writeAll(_ fd: Int32, _ data: Data, subject: String) throws(SandboxError) {
        var offset = 0
        let total = data.count
        while offset < total {
            let count = data.withUnsafeBytes { raw in
                write(fd, raw.baseAddress! + offset, total - offset)
            }
            if count >= 0 {
                offset += count
            } else if errno == EPIPE {
                throw .io("\(subject): the reader has closed it")
            } else if errno != EINTR {
                throw failure(subject, errno)
            }
        }
    }

    /// Writes every byte of `data` to a pipe without letting `SIGPIPE` kill this process when the
    /// reader is gone: the signal is blocked on this thread, the write fails with `EPIPE`, and the
    /// pending signal is consumed before the mask is restored.
    static func writeAllToPipe(_ fd: Int32, _ data: Data, subject: String) throws(SandboxError) {
        #if os(Linux)
        var pipeSignal = sigset_t()
        var previous = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer {
            var pending = sigset_t()
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 {
                var noWait = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeSignal, nil, &noWait)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        #elseif canImport(Darwin)
        _ = fcntl(fd, F_SETNOSIGPIPE, 1)
        #endif
        try writeAll(fd, data, subject: subject)
    }
}

import Foundation

/// Writes to stdout and stderr with `write(2)`, never trapping: when the reader of stdout has
/// gone (`ca task logs | head`), ca stops quietly with status 141, as a process killed by
/// SIGPIPE would; other write errors on stdout exit 74 (EX_IOERR). Errors on stderr are ignored.
enum StandardStream {
    case output
    case error

    func write(_ data: Data) {
        let fd = self == .output ? STDOUT_FILENO : STDERR_FILENO
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard var pointer = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = Foundation.write(fd, pointer, remaining)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    guard self == .output else { return }
                    exit(errno == EPIPE ? 141 : 74)
                }
                pointer += written
                remaining -= written
            }
        }
    }

    func write(_ text: String) { write(Data(text.utf8)) }
}

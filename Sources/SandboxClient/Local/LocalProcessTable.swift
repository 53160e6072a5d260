import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The live host processes of a local sandbox, recorded as files `<sandbox>/pids/<pid>` so that
/// any process (another `ca`, or one recovering from a crash) can find and kill them.
///
/// A record holds the process's start time (from `/proc/<pid>/stat`), so a recycled pid is never
/// mistaken for the recorded process. Before a bubblewrap process is killed its command line must
/// also name the sandbox folder.
struct LocalProcessTable: Sendable {
    /// One recorded process.
    struct Record: Sendable, Hashable {
        var pid: Int32
        /// Start time in clock ticks after boot (field 22 of `/proc/<pid>/stat`).
        var startTime: UInt64
        /// Whether the record is a process group to signal as a whole (no isolation).
        var isProcessGroup: Bool
    }

    /// A few fields of `/proc/<pid>/stat`.
    struct ProcessStatus: Sendable, Hashable {
        var state: Character
        var parent: Int32
        var group: Int32
        var startTime: UInt64

        var isZombie: Bool { state == "Z" || state == "X" }
    }

    /// The sandbox folder (`<root>/<id>`).
    let sandboxFolder: String

    var folder: String { sandboxFolder + "/pids" }

    // MARK: Records

    /// Records a process just started. Called on the process thread, before anyone sees the pid.
    func add(pid: Int32, isProcessGroup: Bool) {
        guard let status = Self.status(of: pid) else { return }
        let line = "\(status.startTime) \(isProcessGroup ? "group" : "bwrap")\n"
        try? Data(line.utf8).write(to: URL(fileURLWithPath: "\(folder)/\(pid)"), options: .atomic)
    }

    /// Forgets a process that ended.
    func remove(pid: Int32) {
        _ = unlink("\(folder)/\(pid)")
    }

    /// The recorded processes (malformed files are skipped).
    func records() -> [Record] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.compactMap { name -> Record? in
            guard let pid = Int32(name), pid > 1,
                  let text = try? String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8) else { return nil }
            let fields = text.split(whereSeparator: \.isWhitespace)
            guard fields.count == 2, let startTime = UInt64(fields[0]) else { return nil }
            return Record(pid: pid, startTime: startTime, isProcessGroup: fields[1] == "group")
        }
    }

    /// Whether a record still denotes a live process of this sandbox.
    func isLive(_ record: Record) -> Bool {
        guard let status = Self.status(of: record.pid), !status.isZombie, status.startTime == record.startTime else {
            return false
        }
        if record.isProcessGroup {
            return status.group == record.pid
        }
        guard let arguments = Self.commandLine(of: record.pid), Self.isBubblewrap(arguments) else { return false }
        return arguments.contains { $0.hasPrefix(sandboxFolder + "/") }
    }

    /// Kills every process of the sandbox with `SIGKILL` and waits (up to `timeout`) until they
    /// and everything they started are gone.
    ///
    /// It kills the recorded processes (after checking each record), and also every `bwrap`
    /// process whose arguments name the sandbox folder: that catches the PID namespace's init
    /// process (a fork of `bwrap` with the same command line), which `--die-with-parent` does not
    /// cover while bwrap is still setting up. The kernel reaps every process of a namespace before
    /// its init exits, so once no such `bwrap` is left nothing of the sandbox is. Without isolation
    /// the recorded process groups are killed and waited for.
    func killAll(timeout: Duration = .seconds(10)) async {
        var groups: [Int32] = []
        for record in records() where isLive(record) {
            if record.isProcessGroup {
                _ = kill(-record.pid, SIGKILL)
                groups.append(record.pid)
            } else {
                _ = kill(record.pid, SIGKILL)
            }
        }
        let prefix = sandboxFolder + "/"
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let remaining = Self.killBubblewraps { $0.hasPrefix(prefix) }
            let groupsGone = groups.isEmpty || Self.allStatuses().allSatisfy { !groups.contains($0.value.group) || $0.value.isZombie }
            if remaining == 0 && groupsGone || clock.now >= deadline { return }
            if !groupsGone {
                groups.forEach { _ = kill(-$0, SIGKILL) }
            }
            await Self.pause()
        }
    }

    /// Kills (`SIGKILL`) every live `bwrap` process one of whose arguments satisfies `matches`,
    /// and returns how many there were.
    @discardableResult
    static func killBubblewraps(where matches: (String) -> Bool) -> Int {
        let own = getpid()
        var count = 0
        for (pid, status) in allStatuses() where pid != own && !status.isZombie {
            guard let arguments = commandLine(of: pid), isBubblewrap(arguments), arguments.dropFirst().contains(where: matches) else { continue }
            _ = kill(pid, SIGKILL)
            count += 1
        }
        return count
    }

    /// Kills the `bwrap` processes carrying `marker` until none is left (up to `timeout`),
    /// blocking the calling thread.
    static func sweepBubblewraps(marker: String, timeout: Duration = .seconds(5)) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while killBubblewraps(where: { $0 == marker }) > 0 && clock.now < deadline {
            usleep(5_000)
        }
    }

    /// Whether a command line is one of `bwrap`.
    static func isBubblewrap(_ arguments: [String]) -> Bool {
        guard let program = arguments.first?.split(separator: "/").last else { return false }
        return program == "bwrap" || program.hasPrefix("bwrap")
    }

    /// Sleeps 10 ms, even in a cancelled task (killing must finish).
    static func pause() async {
        do {
            try await Task.sleep(for: .milliseconds(10))
        } catch {
            usleep(10_000)
        }
    }

    // MARK: /proc

    /// Parses `/proc/<pid>/stat`; `nil` when there is no such process.
    static func status(of pid: Int32) -> ProcessStatus? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        return parseStatus(String(decoding: data, as: UTF8.self))
    }

    /// Parses the text of a `/proc/<pid>/stat` file.
    static func parseStatus(_ text: String) -> ProcessStatus? {
        // The command name (field 2) is in parentheses and may contain spaces and parentheses.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so field n is fields[n - 3].
        guard fields.count > 19, let state = fields[0].first,
              let parent = Int32(fields[1]), let group = Int32(fields[2]), let startTime = UInt64(fields[19]) else { return nil }
        return ProcessStatus(state: state, parent: parent, group: group, startTime: startTime)
    }

    /// The arguments of a process, from `/proc/<pid>/cmdline`.
    static func commandLine(of pid: Int32) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        return data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every process of the host (of this PID namespace) with its status.
    static func allStatuses() -> [Int32: ProcessStatus] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [:] }
        var result: [Int32: ProcessStatus] = [:]
        for name in names {
            guard let pid = Int32(name), let status = status(of: pid) else { continue }
            result[pid] = status
        }
        return result
    }

}

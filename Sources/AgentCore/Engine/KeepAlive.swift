import Foundation
import SandboxClient

/// `--keep-alive`: a task's cloud sandbox is paused at its end instead of killed, for a window
/// in which `ca task resume` continues in it (no clone, no patch, Claude Code's state as it was).
///
/// A paused sandbox is never left forever: when its window has passed, it is killed by
/// ``expireOverdue(store:backends:now:)``, which `ca sandbox gc`, the CLI's start-up recovery
/// and a server's periodic scan all run. The store says which tasks hold one
/// (``TaskRecord/pausedSandboxID``, ``TaskRecord/pausedUntil``), so the pass costs one indexed query.
public enum KeepAlive {
    /// Longest keep-alive window accepted (24 hours).
    public static let maximumSeconds = 86_400

    /// The sandbox's own timeout is set to the window plus this margin before it is paused, so
    /// that a provider that counts a paused sandbox's timeout reaps it even if ca never runs again.
    static let providerMargin = 300

    /// The keep-alive of a new task: `requested` (0 turns it off), else `CA_KEEP_ALIVE` (which
    /// only applies to backends that can pause), checked against the backend.
    static func resolve(_ requested: Int?, environment: [String: String], backend: SandboxKind,
                        canPause: () -> Bool) throws(TaskError) -> Int? {
        if let requested {
            guard requested >= 0, requested <= maximumSeconds else {
                throw TaskError.invalidArgument("--keep-alive must be at most \(DurationFormat.describe(seconds: maximumSeconds))")
            }
            guard requested > 0 else { return nil }
            guard canPause() else {
                throw TaskError.invalidArgument("--keep-alive needs a backend that can pause sandboxes (novita or e2b); the \(backend) backend cannot")
            }
            return requested
        }
        guard let text = environment["CA_KEEP_ALIVE"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty, text != "0" else { return nil }
        guard let seconds = DurationFormat.parse(text), seconds >= 0, seconds <= maximumSeconds else {
            throw TaskError.invalidArgument("CA_KEEP_ALIVE must be a duration such as 30m or 2h, at most \(DurationFormat.describe(seconds: maximumSeconds)), not '\(text)'")
        }
        return seconds > 0 && canPause() ? seconds : nil
    }

    /// Kills the paused sandboxes whose window has passed (each taken off its task atomically
    /// first, so a resume that claimed it meanwhile keeps it). Returns what was killed; a
    /// sandbox that could not be killed is put back on its task, to be tried again.
    @discardableResult
    public static func expireOverdue(store: TaskStore, backends: SandboxBackends, writer: @Sendable () throws(TaskError) -> TaskStore,
                                     now: Date = Date()) async -> [TaskStore.PausedSandbox] {
        guard let overdue = try? await store.tasksWithExpiredPausedSandboxes(now: now), !overdue.isEmpty,
              let writable = try? writer() else { return [] }
        var killed: [TaskStore.PausedSandbox] = []
        for task in overdue {
            guard let taken = try? await writable.takePausedSandbox(taskID: task.id, expiredAt: now) else { continue }
            do {
                let provider = try backends.provider(named: task.sandboxBackend)
                do { try await provider.kill(id: taken.sandboxID) } catch { throw TaskError.sandbox(error) }
                killed.append(taken)
            } catch {
                // Not killed (the backend is unreachable now): keep it on record for the next pass.
                _ = try? await writable.update(task.id) { t in
                    if t.pausedSandboxID == nil { t.pausedSandboxID = taken.sandboxID; t.pausedUntil = taken.until }
                }
            }
        }
        return killed
    }

    /// `2026-12-04 01:45 UTC`: when a keep-alive window ends.
    public static func clockTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}

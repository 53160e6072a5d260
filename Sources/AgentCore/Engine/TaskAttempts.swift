import Foundation

/// Best-of-N (`--attempts N`): N attempts of the same prompt, each an ordinary task with its own
/// sandbox, events, cost, patch and files, under one parent task that runs nothing itself.
///
/// The parent's status is derived from its attempts (``settle(_:attempts:now:)``): `running`
/// once one started, and when all ended `succeeded` if at least one did, else `cancelled` (when
/// the run was cancelled), `timed_out` (when every attempt timed out) or `failed`. Its cost and
/// tokens are the sums of its attempts'.
public enum TaskAttempts {
    /// How many attempts a task may have.
    public static let allowed = 1...4

    /// Checks `count` against ``allowed``.
    public static func check(_ count: Int) throws(TaskError) {
        guard allowed.contains(count) else {
            throw TaskError.invalidArgument("attempts must be from \(allowed.lowerBound) to \(allowed.upperBound), not \(count)")
        }
    }

    /// The parent and the `count` attempts of the fully built task `template`: every attempt is
    /// a copy of it (so every option of the request applies to each), with its own id. The
    /// parent keeps the webhook (one delivery for the run) and waits in no queue.
    static func split(_ template: TaskRecord, count: Int, makeID: () -> String = { TaskID.make() }) -> (parent: TaskRecord, attempts: [TaskRecord]) {
        var parent = template
        parent.attempts = count
        parent.queuedBy = nil
        let attempts = (1...count).map { number -> TaskRecord in
            var attempt = template
            attempt.id = makeID()
            attempt.attemptOf = parent.id
            attempt.attempt = number
            attempt.notifyURL = nil
            return attempt
        }
        return (parent, attempts)
    }

    /// Derives the parent's status, times, cost, tokens and result from its attempts.
    static func settle(_ parent: inout TaskRecord, attempts: [TaskRecord], now: Date = Date()) {
        guard !parent.status.isTerminal, !attempts.isEmpty else { return }
        let started = attempts.compactMap(\.startedAt)
        if parent.startedAt == nil, let first = started.min() { parent.startedAt = first }
        parent.costUSD = sum(attempts.map(\.costUSD))
        parent.inputTokens = sum(attempts.map(\.inputTokens))
        parent.outputTokens = sum(attempts.map(\.outputTokens))
        parent.numTurns = sum(attempts.map(\.numTurns))
        guard attempts.allSatisfy(\.status.isTerminal) else {
            if attempts.contains(where: { $0.status != .queued || $0.runnerPID != nil }) { parent.status = .running }
            return
        }
        let numbers = { (status: TaskStatus) in attempts.filter { $0.status == status }.map { String($0.attempt ?? 0) } }
        let succeeded = numbers(.succeeded)
        parent.finishedAt = attempts.compactMap(\.finishedAt).max() ?? now
        parent.runnerPID = nil
        if !succeeded.isEmpty {
            parent.status = .succeeded
            parent.result = "attempt\(succeeded.count == 1 ? "" : "s") \(list(succeeded)) of \(attempts.count) succeeded"
            parent.error = nil
            parent.failureReason = nil
        } else if parent.cancelRequested || attempts.allSatisfy({ $0.status == .cancelled }) {
            parent.status = .cancelled
            parent.error = "cancelled: no attempt succeeded"
        } else if attempts.allSatisfy({ $0.status == .timedOut }) {
            parent.status = .timedOut
            parent.error = "every attempt timed out"
        } else {
            parent.status = .failed
            parent.error = "no attempt succeeded (" + attempts.map { "\($0.attempt ?? 0): \($0.status)" }.joined(separator: ", ") + ")"
            let reasons = Set(attempts.compactMap(\.failureReason))
            parent.failureReason = reasons.count == 1 && attempts.allSatisfy({ $0.failureReason != nil }) ? reasons.first : nil
        }
    }

    private static func sum<T: AdditiveArithmetic>(_ values: [T?]) -> T? {
        let known = values.compactMap { $0 }
        return known.isEmpty ? nil : known.reduce(.zero, +)
    }

    private static func list(_ numbers: [String]) -> String {
        guard numbers.count > 1 else { return numbers.first ?? "" }
        return numbers.dropLast().joined(separator: ", ") + " and " + numbers[numbers.count - 1]
    }
}

@testable import AgentCore
import Foundation
import Testing

/// Best-of-N bookkeeping: how a parent follows its attempts, in memory and in the store
/// (settling, cancelling, crash recovery, the queue and the list).
@Suite struct TaskAttemptsTests {
    static func record(_ id: String, status: TaskStatus = .queued, cost: Double? = nil) -> TaskRecord {
        var t = TaskRecord(id: id, prompt: "p", repositoryURL: "/r", sandboxBackend: .local, timeoutSeconds: 60)
        t.status = status
        t.costUSD = cost
        return t
    }

    static func family(_ outcomes: [(TaskStatus, Double?)]) -> (parent: TaskRecord, attempts: [TaskRecord]) {
        var counter = 0
        var template = record("parent0000000")
        template.notifyURL = "https://example.com/hook"
        template.maxCostUSD = 2
        var (parent, attempts) = TaskAttempts.split(template, count: outcomes.count) {
            counter += 1
            return "attempt\(counter)00000"
        }
        for (index, outcome) in outcomes.enumerated() {
            attempts[index].status = outcome.0
            attempts[index].costUSD = outcome.1
            attempts[index].startedAt = Date(timeIntervalSince1970: Double(100 + index))
            if outcome.0.isTerminal { attempts[index].finishedAt = Date(timeIntervalSince1970: Double(200 + index)) }
        }
        parent.status = .queued
        return (parent, attempts)
    }

    @Test func attemptsCopyTheRequestAndTheParentKeepsTheWebhook() {
        let (parent, attempts) = Self.family([(.queued, nil), (.queued, nil), (.queued, nil)])
        #expect(parent.attempts == 3 && parent.attemptOf == nil && parent.notifyURL == "https://example.com/hook")
        #expect(attempts.map(\.attempt) == [1, 2, 3])
        #expect(Set(attempts.map(\.id)).count == 3 && !attempts.map(\.id).contains(parent.id))
        #expect(attempts.allSatisfy { $0.attemptOf == parent.id && $0.maxCostUSD == 2 && $0.prompt == "p" && $0.notifyURL == nil && $0.attempts == nil })
    }

    @Test func theParentSucceedsWhenOneAttemptDidAndCostsTheSum() {
        var (parent, attempts) = Self.family([(.succeeded, 0.25), (.failed, 0.5), (.succeeded, 0.125)])
        TaskAttempts.settle(&parent, attempts: attempts)
        #expect(parent.status == .succeeded)
        #expect(parent.costUSD == 0.875)
        #expect(parent.result == "attempts 1 and 3 of 3 succeeded")
        #expect(parent.startedAt == Date(timeIntervalSince1970: 100) && parent.finishedAt == Date(timeIntervalSince1970: 202))

        // Ended is ended: a later settle changes nothing.
        attempts[1].costUSD = 9
        let before = parent
        TaskAttempts.settle(&parent, attempts: attempts)
        #expect(parent == before)
    }

    @Test func theParentRunsUntilEveryAttemptEnded() {
        var (parent, attempts) = Self.family([(.succeeded, 0.25), (.running, nil)])
        TaskAttempts.settle(&parent, attempts: attempts)
        #expect(parent.status == .running && parent.finishedAt == nil && parent.costUSD == 0.25)
        attempts[1].status = .failed
        attempts[1].finishedAt = Date()
        TaskAttempts.settle(&parent, attempts: attempts)
        #expect(parent.status == .succeeded && parent.result == "attempt 1 of 2 succeeded")
    }

    @Test func withoutASuccessTheParentFailsIsCancelledOrTimesOut() {
        var (failed, attempts) = Self.family([(.failed, nil), (.timedOut, 0.5)])
        TaskAttempts.settle(&failed, attempts: attempts)
        #expect(failed.status == .failed && failed.error == "no attempt succeeded (1: failed, 2: timed_out)" && failed.costUSD == 0.5)

        var (timedOut, late) = Self.family([(.timedOut, nil), (.timedOut, nil)])
        TaskAttempts.settle(&timedOut, attempts: late)
        #expect(timedOut.status == .timedOut && timedOut.costUSD == nil)

        var (cancelled, stopped) = Self.family([(.cancelled, nil), (.failed, nil)])
        cancelled.cancelRequested = true
        TaskAttempts.settle(&cancelled, attempts: stopped)
        #expect(cancelled.status == .cancelled)
    }

    @Test func attemptsOutOfRangeAreRefused() {
        for bad in [0, 5, -1] { #expect(throws: TaskError.self) { try TaskAttempts.check(bad) } }
        for good in 1...4 { #expect(throws: Never.self) { try TaskAttempts.check(good) } }
    }

    @Test func theStoreSettlesCancelsAndRecoversParents() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ca-attempts-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: home) }
        let service = try TaskService(environment: ["CA_HOME": home.path])
        let store = service.store

        // Inserted together; the list and the queue see the parent only as a parent.
        let (parent, attempts) = Self.family([(.queued, nil), (.queued, nil), (.queued, nil)])
        var queued = attempts
        for index in queued.indices { queued[index].startedAt = nil; queued[index].queuedBy = "instance-1" }
        _ = try await store.insert(parent: parent, attempts: queued, idempotency: nil)
        #expect(try await store.list(limit: 10).map(\.id) == [parent.id])
        #expect(try await store.attempts(of: parent.id).map(\.attempt) == [1, 2, 3])
        #expect(try await service.attempts(parent.id).map(\.id) == queued.map(\.id))
        let claimed = try await store.claimNextQueued(instance: "instance-1", pid: 1, host: "h", maximumRunning: 10, maximumPerOwner: nil)
        #expect(claimed?.attemptOf == parent.id)

        // Cancelling the parent cancels the attempts no runner holds and asks the claimed one to stop.
        let cancelled = try await service.cancel(parent.id)
        let after = try await store.attempts(of: parent.id)
        #expect(after.allSatisfy { $0.cancelRequested })
        #expect(after.filter { $0.id != claimed?.id }.allSatisfy { $0.status == .cancelled })
        #expect(after.first { $0.id == claimed?.id }?.status == .queued)
        #expect(cancelled.status == .running && cancelled.cancelRequested, "one attempt is still held by a runner")

        // Its runner died without settling the parent: recovery closes the attempt and the parent.
        _ = try await store.update(try #require(claimed?.id)) { $0.heartbeatAt = Date(timeIntervalSinceNow: -3600); $0.runnerPID = 999_999 }
        _ = await service.recoverOrphans()
        let recovered = try #require(try await store.task(id: parent.id))
        #expect(recovered.status == .cancelled, "\(recovered.status)")
        #expect(try await store.attempts(of: parent.id).allSatisfy { $0.status.isTerminal })
    }
}

import AgentCore
import CATestSupport
import Foundation
import Testing

/// `TaskService.follow`: the events of a running task, each once and in order, then its end —
/// woken by the runner in the same process, and by polling from another service on the same store.
@Suite struct TaskFollowTests {
    @Test func followersInThisAndAnotherServiceSeeEveryEventOnce() async throws {
        let h = try await EngineHarness.make(script: [
            .toolUse("Write", ["file_path": "{{cwd}}/a.txt", "content": "a\n"], text: "Writing."),
            .toolUse("Bash", ["command": "cat a.txt", "description": "show"]),
            .text("Done."),
        ])
        defer { Task { await h.cleanup() } }
        let task = try await h.create("follow me")
        let other = try TaskService(environment: h.environment)

        func collect(_ service: TaskService, after: Int = 0) async throws -> ([Int], TaskRecord?) {
            var sequences: [Int] = []
            var end: TaskRecord?
            for try await item in service.follow(task.id, after: after) {
                switch item {
                case .event(let event): sequences.append(event.sequence)
                case .finished(let record): end = record
                case .idle: break
                }
            }
            return (sequences, end)
        }
        async let here = collect(h.service)
        async let there = collect(other)
        async let late = collect(h.service, after: 3)
        let done = try await h.run(task)
        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")
        let stored = try await h.service.store.events(taskID: task.id).map(\.sequence)
        #expect(stored == Array(1...stored.count))
        let (hereSequences, hereEnd) = try await here
        let (thereSequences, thereEnd) = try await there
        let (lateSequences, _) = try await late
        #expect(hereSequences == stored)
        #expect(thereSequences == stored)
        #expect(lateSequences == Array(stored.dropFirst(3)))
        #expect(hereEnd?.status == .succeeded && thereEnd?.status == .succeeded)
    }

    @Test func followingAFinishedTaskReplaysItAndEnds() async throws {
        let h = try await EngineHarness.make(script: [.text("Nothing to do.")])
        defer { Task { await h.cleanup() } }
        let done = try await h.run(try await h.create("idle"))
        var count = 0
        var finished = false
        for try await item in h.service.follow(done.id) {
            if case .event = item { count += 1 } else if case .finished = item { finished = true }
        }
        #expect(finished)
        #expect(count == (try await h.service.store.events(taskID: done.id).count))
        let waited = try await h.service.wait(done.id, timeout: 1)
        #expect(waited.status == .succeeded)
    }
}

import Foundation
import Testing
@testable import AgentCore

@Suite struct TaskStoreTests {
    func makeStore() throws -> (TaskStore, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ca-store-\(UUID().uuidString)")
        return (try TaskStore(path: dir.appendingPathComponent("ca.sqlite").path), dir)
    }

    func task(_ id: String) -> TaskRecord {
        TaskRecord(id: id, prompt: "p \(id)", repositoryURL: "/tmp/r", sandboxBackend: .local, timeoutSeconds: 60)
    }

    @Test func resolvesExactIDsAndUniquePrefixes() async throws {
        let (store, dir) = try makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        try await store.insert(task("abc111"))
        try await store.insert(task("abc222"))
        try await store.insert(task("xyz"))
        #expect(try await store.resolve("xyz").id == "xyz")
        #expect(try await store.resolve("abc1").id == "abc111")
        await #expect(throws: StoreError.ambiguousID("abc", ["abc111", "abc222"])) { try await store.resolve("abc") }
        await #expect(throws: StoreError.taskNotFound("nope")) { try await store.resolve("nope") }
        await #expect(throws: StoreError.taskNotFound("a%")) { try await store.resolve("a%") }
    }

    @Test func listsNewestFirstAndFiltersByStatus() async throws {
        let (store, dir) = try makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        for i in 0..<5 {
            var t = task("t\(i)")
            t.createdAt = Date(timeIntervalSince1970: TimeInterval(1_000 + i))
            if i % 2 == 0 { t.status = .succeeded }
            try await store.insert(t)
        }
        #expect(try await store.list(limit: 3).map(\.id) == ["t4", "t3", "t2"])
        #expect(try await store.list(status: .succeeded, limit: 10).map(\.id) == ["t4", "t2", "t0"])
        #expect(try await store.count() == 5)
    }

    @Test func eventsAreOrderedAndSurviveReopening() async throws {
        let (store, dir) = try makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        try await store.insert(task("t"))
        let ingestor = EventIngestor(store: store, taskID: "t", redactor: SecretRedactor(secrets: ["sk-secret-123"]))
        try await ingestor.ingest(Data("{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s1\"}\n{\"type\":\"assis".utf8))
        try await ingestor.ingest(Data("tant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"key sk-secret-123\"}]}}\nnot json\n".utf8))
        try await ingestor.note("clone", "done")
        let reopened = try TaskStore(path: store.path)
        let events = try await reopened.events(taskID: "t")
        #expect(events.map(\.sequence) == [1, 2, 3, 4])
        #expect(events.map(\.type) == ["system", "assistant", "raw", "ca"])
        #expect(!events[1].payload.contains("sk-secret-123"))
        #expect(events[1].payload.contains("[REDACTED]"))
        // A second ingestor continues the sequence.
        let again = EventIngestor(store: reopened, taskID: "t", redactor: SecretRedactor(secrets: []))
        try await again.note("x", "y")
        #expect(try await reopened.lastSequence(taskID: "t") == 5)
    }

    @Test func twoConnectionsCanWriteAndReadAtOnce() async throws {
        let (store, dir) = try makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        let other = try TaskStore(path: store.path)
        try await store.insert(task("a"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let ingestor = EventIngestor(store: store, taskID: "a", redactor: SecretRedactor(secrets: []))
                for i in 0..<200 { try await ingestor.ingest(Data("{\"type\":\"user\",\"n\":\(i)}\n".utf8)) }
            }
            group.addTask {
                for i in 0..<200 { try await other.insert(self.task("b\(i)")) }
            }
            try await group.waitForAll()
        }
        #expect(try await other.events(taskID: "a").count == 200)
        #expect(try await store.count() == 201)
    }
}

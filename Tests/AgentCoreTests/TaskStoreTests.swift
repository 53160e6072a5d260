import Foundation
import Testing
@testable import AgentCore

@Suite struct TaskStoreTests {
    func makeStore() throws -> (TaskStore, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ca-store-\(UUID().uuidString)")
        return (try TaskStore(path: dir.appendingPathComponent("ca.sqlite").path), dir)
    }

    func task(_ id: String) -> TaskRecord {
        TaskRecord(id: id, prompt: "p \(id)", repositoryURL: "/tmp/r", sandboxBackend: "local", timeoutSeconds: 60)
    }

    @Test func resolvesExactIDsAndUniquePrefixes() throws {
        let (store, dir) = try makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        try store.insert(task("abc111"))
        try store.insert(task("abc222"))
        try store.insert(task("xyz"))
        #expect(try store.resolve("xyz").id == "xyz")
        #expect(try store.resolve("abc1").id == "abc111")
        #expect(throws: StoreError.ambiguousID("abc", ["abc111", "abc222"])) { try store.resolve("abc") }
        #expect(throws: StoreError.taskNotFound("nope")) { try store.resolve("nope") }
        #expect(throws: StoreError.taskNotFound("a%")) { try store.resolve("a%") }
    }

    @Test func listsNewestFirstAndFiltersByStatus() throws {
        let (store, dir) = try makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        for i in 0..<5 {
            var t = task("t\(i)")
            t.createdAt = Date(timeIntervalSince1970: TimeInterval(1_000 + i))
            if i % 2 == 0 { t.status = .succeeded }
            try store.insert(t)
        }
        #expect(try store.list(limit: 3).map(\.id) == ["t4", "t3", "t2"])
        #expect(try store.list(status: .succeeded, limit: 10).map(\.id) == ["t4", "t2", "t0"])
        #expect(try store.count() == 5)
    }

    @Test func eventsAreOrderedAndSurviveReopening() throws {
        let (store, dir) = try makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        try store.insert(task("t"))
        let ingestor = try EventIngestor(store: store, taskID: "t", redactor: SecretRedactor(secrets: ["sk-secret-123"]))
        try ingestor.ingest(Data("{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s1\"}\n{\"type\":\"assis".utf8))
        try ingestor.ingest(Data("tant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"key sk-secret-123\"}]}}\nnot json\n".utf8))
        try ingestor.note("clone", "done")
        let reopened = try TaskStore(path: store.path)
        let events = try reopened.events(taskID: "t")
        #expect(events.map(\.sequence) == [1, 2, 3, 4])
        #expect(events.map(\.type) == ["system", "assistant", "raw", "ca"])
        #expect(!events[1].payload.contains("sk-secret-123"))
        #expect(events[1].payload.contains("[REDACTED]"))
        // A second ingestor continues the sequence.
        let again = try EventIngestor(store: reopened, taskID: "t", redactor: SecretRedactor(secrets: []))
        try again.note("x", "y")
        #expect(try reopened.lastSequence(taskID: "t") == 5)
    }

    @Test func twoConnectionsCanWriteAndReadAtOnce() async throws {
        let (store, dir) = try makeStore(); defer { try? FileManager.default.removeItem(at: dir) }
        let other = try TaskStore(path: store.path)
        try store.insert(task("a"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let ingestor = try EventIngestor(store: store, taskID: "a", redactor: SecretRedactor(secrets: []))
                for i in 0..<200 { try ingestor.ingest(Data("{\"type\":\"user\",\"n\":\(i)}\n".utf8)) }
            }
            group.addTask {
                for i in 0..<200 { try other.insert(self.task("b\(i)")) }
            }
            try await group.waitForAll()
        }
        #expect(try other.events(taskID: "a").count == 200)
        #expect(try store.count() == 201)
    }
}

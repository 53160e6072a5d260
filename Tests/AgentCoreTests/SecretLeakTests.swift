import AgentCore
import CATestSupport
import Foundation
import Testing

/// An agent that holds the API key (as an agent with it in its environment could, on a cloud
/// sandbox) leaks it in the ways redaction must recognise, and writes it into a file.
///
/// The agent is a STAND-IN shell script: the real Claude Code serialises its own output, so it
/// never writes a key JSON-escaped character by character; a hostile or broken agent binary can.
@Suite struct SecretLeakTests {
    @Test func escapedAndEncodedCopiesAreRedactedAndSavedFilesFlagged() async throws {
        let h = try await EngineHarness.make(script: [])
        defer { Task { await h.cleanup() } }
        let key = EngineHarness.apiKey
        let escaped = key.unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined()
        let base64 = Data(key.utf8).base64EncodedString()
        let percent = key.utf8.map { String(format: "%%%02X", $0) }.joined()
        let agent = h.root.appendingPathComponent("leaky-agent").path
        try await ExecutableScript.write("""
        #!/bin/sh
        echo '{"type":"system","subtype":"init","session_id":"s-leak","model":"stand-in"}'
        printf '%s\\n' '{"type":"assistant","message":{"content":[{"type":"text","text":"escaped \(escaped) end"}]},"session_id":"s-leak"}'
        printf '%s\\n' '{"type":"assistant","message":{"content":[{"type":"text","text":"b64 xx\(base64)yy and url ?k=\(percent)"}]},"session_id":"s-leak"}'
        printf 'token=%s\\n' '\(base64)' > leaked.txt
        echo '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"done","session_id":"s-leak"}'
        """, to: agent)
        let service = try TaskService(environment: h.environment.merging(["CA_CLAUDE_BIN": agent]) { _, new in new })
        let task = try await service.create(TaskRequest(prompt: "leak", repository: h.fixture.bare.path, timeoutSeconds: 120))
        let done = await (try service.makeRunner(for: task)).run(taskID: task.id)
        #expect(done.status == .succeeded, "error: \(done.error ?? "-")")

        // No stored event holds the key, also once decoded.
        let events = try await service.store.events(taskID: done.id)
        func strings(_ value: Any) -> [String] {
            switch value {
            case let s as String: return [s]
            case let a as [Any]: return a.flatMap(strings)
            case let o as [String: Any]: return o.keys.map { $0 } + o.values.flatMap(strings)
            default: return []
            }
        }
        let decoded = events.compactMap { try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) }.flatMap(strings)
        #expect(decoded.count > 5)
        #expect(!decoded.contains { $0.contains(key) || $0.contains(base64) })
        #expect(events.contains { $0.payload.contains("[REDACTED]") })
        // The file keeps what the agent wrote, but is flagged, and the task says so.
        let artifacts = try await service.artifacts(done.id)
        #expect(artifacts.first { $0.path == "leaked.txt" }?.note == WorkspaceExtractor.secretNote)
        #expect(artifacts.first { $0.kind == .patch }?.note == WorkspaceExtractor.secretNote)
        #expect(try await h.notes(done, "warning").contains { $0.contains("leaked.txt") })
        // The database holds no copy in any of these forms.
        let database = try Data(contentsOf: service.paths.database)
            + ((try? Data(contentsOf: URL(fileURLWithPath: service.paths.database.path + "-wal"))) ?? Data())
        for form in [key, base64] {
            #expect(database.range(of: Data(form.utf8)) == nil)
        }
    }
}

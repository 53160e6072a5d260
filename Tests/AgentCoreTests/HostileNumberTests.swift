import Foundation
import GRDB
import SandboxClient
import Testing
@testable import AgentCore

/// Numbers and sizes that come from the agent, a server or the command line: clamped or refused,
/// never a trap.
@Suite struct HostileNumberTests {
    @Test func tokenCountsAtIntMaxSaturate() throws {
        let line = #"{"type":"result","subtype":"success","is_error":false,"num_turns":1e300,"total_cost_usd":-5,"usage":{"input_tokens":9223372036854775807,"cache_creation_input_tokens":9223372036854775807,"cache_read_input_tokens":1e308,"output_tokens":-3}}"#
        guard case .result(let result)? = AgentEvent.parse(Data(line.utf8))?.kinds.first else {
            Issue.record("not a result"); return
        }
        #expect(result.inputTokens == Int.max)
        #expect(result.outputTokens == 0)
        #expect(result.numTurns == Int.max)
        #expect(result.totalCostUSD == nil)
        #expect(JSONValue.number(1e300).intValue == Int.max)
        #expect(JSONValue.number(-1e300).intValue == Int.min)
        #expect(JSONValue.number(.nan).intValue == nil)
        #expect(SaturatingNumber.add(Int.max, 1) == Int.max && SaturatingNumber.add(Int.min, -1) == Int.min)
        #expect(SaturatingNumber.multiply(Int.max, -2) == Int.min)
    }

    @Test func durationsTooLongToCountAreRefused() {
        #expect(DurationFormat.parse("9999999999999999h") == nil)
        #expect(DurationFormat.parse("99999999999999999999999") == nil)
        #expect(DurationFormat.parse("365d") == 365 * 86400)
        #expect(DurationFormat.parse("366d") == nil)
        #expect(DurationFormat.parse("1h30m") == 5400)
        #expect(DurationFormat.parse("h") == nil)
        #expect(DurationFormat.parse("١٢s") == nil)
    }

    @Test func retryAfterBeyondADayIsCappedNotTrapped() {
        #expect(NovitaRetryPolicy.retryAfter("1e300") == .seconds(86_400))
        #expect(NovitaRetryPolicy.retryAfter("-1") == nil)
        #expect(NovitaRetryPolicy.retryAfter("inf") == nil)
        #expect(NovitaRetryPolicy.standard.delay(afterAttempt: 1, retryAfter: NovitaRetryPolicy.retryAfter("1e300")) == .seconds(60))
    }

    @Test func batchOutputWithHostileSizesEndsTheParse() {
        #expect(WorkspaceExtractor.parseBatch(Data("aaa blob -5\nxyz\n".utf8)).isEmpty)
        #expect(WorkspaceExtractor.parseBatch(Data("aaa blob 9223372036854775807\nxyz\n".utf8)).isEmpty)
        let good = WorkspaceExtractor.parseBatch(Data("aaa blob 1\nx\nbbb blob -1\n".utf8))
        #expect(good == ["aaa": Data("x".utf8)])
    }

    @Test func storeIsPrivateAndRefusesANewerSchema() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ca-schema-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ca.sqlite").path
        _ = try TaskStore(path: path)
        let folderMode = try FileManager.default.attributesOfItem(atPath: dir.path)[.posixPermissions] as? Int
        let fileMode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(folderMode == 0o700)
        #expect(fileMode == 0o600)

        // A newer ca added a migration this binary does not know.
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')") }
        try queue.close()
        #expect(throws: StoreError.newerSchema(path: path, unknownMigrations: ["v99-from-the-future"])) { try TaskStore(path: path) }
    }
}

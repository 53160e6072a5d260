import Foundation
import Testing
@testable import AgentCore

@Suite struct AgentEventTests {
    @Test func parsesInitAssistantToolUseAndResult() throws {
        let initLine = #"{"type":"system","subtype":"init","cwd":"/home/user/repo","session_id":"s-1","model":"claude-opus-5-5","tools":["Bash"]}"#
        #expect(AgentEvent.parse(Data(initLine.utf8))?.kinds == [.initialized(sessionID: "s-1", model: "claude-opus-5-5")])

        let tool = #"{"type":"assistant","message":{"id":"m","content":[{"type":"tool_use","id":"toolu_1","name":"Write","input":{"file_path":"/home/user/repo/a.txt","content":"x"}}]},"session_id":"s-1"}"#
        guard case .toolUse(let id, let name, let input)? = AgentEvent.parse(Data(tool.utf8))?.kinds.first else {
            Issue.record("no tool use"); return
        }
        #expect(id == "toolu_1" && name == "Write")
        #expect(input["file_path"]?.stringValue == "/home/user/repo/a.txt")

        let result = #"{"type":"result","subtype":"success","is_error":true,"num_turns":2,"total_cost_usd":0.5,"result":"API Error: 500 boom","api_error_status":500,"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":7},"session_id":"s-1"}"#
        guard case .result(let r)? = AgentEvent.parse(Data(result.utf8))?.kinds.first else { Issue.record("no result"); return }
        #expect(!r.succeeded)
        #expect(r.failureReason == "API Error: 500 boom")
        #expect(r.inputTokens == 15 && r.outputTokens == 7 && r.numTurns == 2 && r.totalCostUSD == 0.5)
    }

    @Test func maxTurnsIsAFailureWithItsReason() {
        let line = #"{"type":"result","subtype":"error_max_turns","is_error":false,"errors":["Reached maximum number of turns (2)"]}"#
        guard case .result(let r)? = AgentEvent.parse(Data(line.utf8))?.kinds.first else { Issue.record("no result"); return }
        #expect(!r.succeeded)
        #expect(r.failureReason == "Reached maximum number of turns (2)")
    }

    @Test func toolResultsAndUnknownLines() {
        let user = #"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"boom","is_error":true}]}}"#
        #expect(AgentEvent.parse(Data(user.utf8))?.kinds == [.toolResult(toolUseID: "t1", isError: true, content: "boom")])
        let prompt = #"{"type":"user","message":{"role":"user","content":"plain"}}"#
        #expect(AgentEvent.parse(Data(prompt.utf8))?.kinds == [.other])
        #expect(AgentEvent.parse(Data("nope".utf8)) == nil)
    }

    @Test func lineSplitterHandlesArbitraryChunks() {
        let text = Data("one\ntwo\r\nthree\nfour".utf8)
        for size in 1...6 {
            var splitter = LineSplitter()
            var lines: [String] = []
            var i = 0
            while i < text.count {
                let chunk = text.subdata(in: i..<min(i + size, text.count))
                lines += splitter.append(chunk).compactMap(\.line).map { String(decoding: $0, as: UTF8.self) }
                i += size
            }
            if let rest = splitter.finish()?.line { lines.append(String(decoding: rest, as: UTF8.self)) }
            #expect(lines == ["one", "two\r", "three", "four"])
        }
    }

    @Test func lineSplitterDropsOverlongLinesWithoutBufferingThem() {
        var splitter = LineSplitter(maximumLineLength: 8)
        var pieces: [LineSplitter.Piece] = []
        // An over-long line arriving in many chunks, then normal lines; again at the end of the stream.
        for _ in 0..<1000 { pieces += splitter.append(Data("abcdef".utf8)) }
        pieces += splitter.append(Data("gh\nok\n12345678\n123456789".utf8))
        pieces += splitter.append(Data("0".utf8))
        if let last = splitter.finish() { pieces.append(last) }
        #expect(pieces == [.dropped(bytes: 6002), .line(Data("ok".utf8)), .line(Data("12345678".utf8)), .dropped(bytes: 10)])
        #expect(splitter.finish() == nil)
    }

    @Test func invocationKeepsSecretsOutOfArgv() {
        let inv = AgentInvocation(executable: "/opt/claude", prompt: "-rf everything", model: "sonnet", maxTurns: 3, resumeSessionID: "s-9",
                                  credentials: AgentCredentials(apiKey: "sk-ant-very-secret", baseURL: "http://127.0.0.1:1"))
        #expect(!inv.arguments.joined(separator: " ").contains("sk-ant-very-secret"))
        #expect(inv.arguments.suffix(2) == ["--", "-rf everything"])
        #expect(inv.arguments.contains("--resume") && inv.arguments.contains("--max-turns"))
        #expect(inv.environment["ANTHROPIC_API_KEY"] == "sk-ant-very-secret")
        #expect(inv.environment["IS_SANDBOX"] == "1")
        #expect(AgentInvocation.projectSlug(for: "/srv/Sp ace+Ü.x") == "-srv-Sp-ace---x")
        #expect(AgentInvocation.transcriptPath(sessionID: "abc") == "/home/user/.ca/claude/projects/-home-user-repo/abc.jsonl")
    }
}

@Suite struct TaskIDTests {
    @Test func idsAreThirteenCharactersAndSortByTime() {
        let early = TaskID.make(now: Date(timeIntervalSince1970: 1_760_000_000))
        let later = TaskID.make(now: Date(timeIntervalSince1970: 1_760_000_000 + 86_400 * 3650))
        #expect(early.count == 13 && later.count == 13)
        #expect(early < later)
        #expect(Set((0..<1000).map { _ in TaskID.make() }).count == 1000)
    }
}

@Suite struct SecretRedactorTests {
    @Test func redactsEveryOccurrenceAndLeavesCleanTextAlone() {
        let redactor = SecretRedactor(secrets: ["sk-ant-12345678", "tok-ÄÖ-98765", "short"])
        #expect(redactor.redactIfNeeded("nothing secret here, not even short") == nil)
        #expect(redactor.redact("a sk-ant-12345678 b sk-ant-12345678") == "a [REDACTED] b [REDACTED]")
        #expect(redactor.redact("unicode tok-ÄÖ-98765!") == "unicode [REDACTED]!")
        #expect(redactor.redact("sk-ant-1234567") == "sk-ant-1234567")
    }
}

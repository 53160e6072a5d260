import AgentCore
import Foundation
import SandboxClient
import Testing

/// The pieces of `--max-cost` that need no sandbox: prices, the meter, the gateway's tap.
@Suite struct CostMeterTests {
    @Test func aModelIsPricedByItsLongestPrefixAndAnUnknownOneAsTheDearest() {
        let table = PriceTable.builtIn
        #expect(table.price(of: "claude-sonnet-4-5-20250929") == table.entries["claude-sonnet-4"])
        #expect(table.price(of: "claude-opus-4-5") == ModelPrice(input: 5, output: 25))
        #expect(table.price(of: "claude-opus-4-20250514") == ModelPrice(input: 15, output: 75))
        #expect(table.price(of: "CLAUDE-HAIKU-5-5") == ModelPrice(input: 0.1, output: 0.5))
        let dearest = table.fallback
        #expect(dearest.input == 15 && dearest.output == 75)
        for unknown in ["mystery-model", "", "gpt-9", "sonnet"] {
            #expect(table.price(of: unknown) == dearest, "\(unknown)")
        }
        #expect(table.price(of: nil) == dearest)
        // Never free: every built-in price and the fallback charge for input and output.
        for price in table.entries.values { #expect(price.input > 0 && price.output > 0) }
    }

    @Test func costsFollowTheCacheRatiosAndNeverGoWrong() {
        let price = ModelPrice(input: 2, output: 10)
        let usage = TokenUsage(inputTokens: 1_000_000, outputTokens: 100_000, cacheCreationTokens: 300_000, cacheCreationLongTokens: 100_000,
                               cacheReadTokens: 1_000_000)
        // 2 + 1 + 0.2M×2.5 + 0.1M×4 + 1M×0.2 = 2 + 1 + 0.5 + 0.4 + 0.2
        #expect(abs(price.cost(of: usage) - 4.1) < 1e-9)
        let huge = TokenUsage(inputTokens: .max, outputTokens: .max, cacheCreationTokens: .max, cacheReadTokens: .max)
        let cost = ModelPrice(input: 100_000, output: 100_000).cost(of: huge)
        #expect(cost.isFinite && cost > 1e15)
        #expect(TokenUsage(inputTokens: -5, outputTokens: -1).inputTokens == 0)
        // Hostile JSON: strings, negatives, booleans, NaN-like values count as nothing.
        let parsed = TokenUsage(json: ["input_tokens": "100", "output_tokens": -3, "cache_read_input_tokens": true, "cache_creation_input_tokens": 7])
        #expect(parsed == TokenUsage(inputTokens: 0, outputTokens: 0, cacheCreationTokens: 7, cacheReadTokens: 0))
        #expect(TokenUsage(json: ["unrelated": 1]) == nil)
    }

    @Test func theMeterCountsEachCallOnceAtItsLargestAndStaysBounded() {
        let meter = CostMeter(cap: 1, prices: PriceTable(entries: ["m": ModelPrice(input: 1_000_000, output: 1_000_000)]))
        // Each token costs $1 here.
        meter.record(messageID: "a", model: "m", usage: TokenUsage(inputTokens: 0, outputTokens: 0))
        #expect(meter.spent == 0 && !meter.exceeded)
        meter.record(messageID: "a", model: nil, usage: TokenUsage(inputTokens: 0, outputTokens: 0, cacheReadTokens: 1))
        #expect(abs(meter.spent - 0.1) < 1e-9)
        // The same call reported again (the agent's partial copy, then the stream's end) is not added twice.
        meter.record(messageID: "a", model: "m", usage: TokenUsage(inputTokens: 0, outputTokens: 0))
        #expect(abs(meter.spent - 0.1) < 1e-9)
        meter.record(messageID: "b", model: "m", usage: TokenUsage(outputTokens: 1))
        #expect(abs(meter.spent - 1.1) < 1e-9 && meter.exceeded && meter.calls == 2)

        let many = CostMeter(cap: nil, prices: PriceTable(entries: ["m": ModelPrice(input: 1_000_000, output: 0)]))
        for index in 0..<(CostMeter.maximumTrackedMessages + 100) {
            many.record(messageID: "id-\(index)", model: "m", usage: TokenUsage(inputTokens: 1))
        }
        #expect(many.calls == CostMeter.maximumTrackedMessages)
        #expect(abs(many.spent - Double(CostMeter.maximumTrackedMessages + 100)) < 1e-6)
        #expect(!many.exceeded)
    }

    @Test func aPriceTableFileReplacesAndAddsEntriesAndABadOneIsRefusedClearly() throws {
        let table = try PriceTable.builtIn.merging(json: Data(#"{"claude-sonnet-5": {"input": 20, "output": 100, "cache_read": 1}, "my-proxy": {"input": 1, "output": 2}}"#.utf8), source: "test")
        #expect(table.price(of: "claude-sonnet-5-5") == ModelPrice(input: 20, output: 100, cacheRead: 1))
        #expect(table.price(of: "my-proxy-large") == ModelPrice(input: 1, output: 2))
        #expect(table.price(of: "claude-haiku-5-5") == ModelPrice(input: 0.1, output: 0.5))
        let bad: [(String, String)] = [
            ("[]", "JSON object"),
            (#"{"m": 5}"#, "must be an object"),
            (#"{"m": {"input": 1}}"#, "needs \"output\""),
            (#"{"m": {"input": -1, "output": 1}}"#, "must be a number"),
            (#"{"m": {"input": "1", "output": 1}}"#, "must be a number"),
            (#"{"m": {"input": 1, "output": 1, "cache_wrte": 1}}"#, "unknown field 'cache_wrte'"),
            (#"{"m": {"input": 1e9, "output": 1}}"#, "must be a number"),
        ]
        for (json, expected) in bad {
            #expect(throws: TaskError.self, "\(json)") { try PriceTable.builtIn.merging(json: Data(json.utf8), source: "test") }
            do { _ = try PriceTable.builtIn.merging(json: Data(json.utf8), source: "test") } catch {
                #expect(error.description.contains(expected), "\(json): \(error)")
            }
        }
        #expect(throws: TaskError.self) { try PriceTable.from(environment: ["CA_PRICE_TABLE": "/nonexistent/prices.json"]) }
        #expect(try PriceTable.from(environment: [:]) == .builtIn)
    }

    @Test func theTapReadsUsageFromAStreamCutAnywhereAndFromAPlainAnswer() {
        let stream = """
        event: message_start\r
        data: {"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-5-5","usage":{"input_tokens":1000,"output_tokens":1,"cache_read_input_tokens":500}}}\r
        \r
        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"message_delta is just text here"}}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":300}}

        """
        let bytes = Array(stream.utf8)
        let prices = PriceTable.builtIn
        let expected = prices.price(of: "claude-sonnet-5-5").cost(of: TokenUsage(inputTokens: 1000, outputTokens: 300, cacheReadTokens: 500))
        for cut in [1, 2, 7, 64, bytes.count] {
            let meter = CostMeter(cap: nil, prices: prices)
            var tap = AnthropicUsageTap(meter: meter)
            var index = 0
            while index < bytes.count {
                tap.consume(Data(bytes[index..<min(bytes.count, index + cut)]))
                index += cut
            }
            tap.finish()
            #expect(abs(meter.spent - expected) < 1e-12, "cut \(cut)")
            #expect(meter.calls == 1)
        }
        let meter = CostMeter(cap: nil, prices: prices)
        var plain = AnthropicUsageTap(meter: meter)
        plain.consume(Data(#"{"id":"msg_2","type":"message","model":"claude-haiku-5-5","usage":{"input_tokens":2000000,"output_tokens":0}}"#.utf8))
        plain.finish()
        #expect(abs(meter.spent - 0.2) < 1e-12)
    }

    @Test func theGatewayMeterRefusesModelCallsOnceTheCapIsReached() throws {
        let meter = CostMeter(cap: 0.5, prices: PriceTable(entries: ["m": ModelPrice(input: 1_000_000, output: 0)]))
        let gateway = AnthropicUsageTap.gatewayMeter(meter)
        #expect(gateway.admit("POST", "/v1/messages?beta=true") == nil)
        meter.record(messageID: "x", model: "m", usage: TokenUsage(inputTokens: 1))
        let refusal = try #require(gateway.admit("POST", "/v1/messages?beta=true"))
        #expect(refusal.status == 403 && refusal.headers["x-should-retry"] == "false")
        let body = try #require(try JSONSerialization.jsonObject(with: refusal.body) as? [String: Any])
        let message = try #require((body["error"] as? [String: Any])?["message"] as? String)
        #expect(body["type"] as? String == "error" && message.contains("cost cap of $0.50"))
        // Only model calls are refused.
        #expect(gateway.admit("GET", "/v1/models") == nil)
        // The observer feeds the meter.
        let observe = gateway.observeResponse()
        observe(Data(#"data: {"type":"message_start","message":{"id":"y","model":"m","usage":{"input_tokens":2}}}"#.utf8 + [0x0A]))
        observe(nil)
        #expect(abs(meter.spent - 3) < 1e-9)
    }

    @Test func assistantLinesCarryTheirCallsUsage() throws {
        let line = #"{"type":"assistant","message":{"id":"msg_9","model":"claude-opus-5-5","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":12536,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"session_id":"s"}"#
        let event = try #require(AgentEvent.parse(Data(line.utf8)))
        #expect(event.messageUsage?.messageID == "msg_9" && event.messageUsage?.model == "claude-opus-5-5")
        #expect(event.messageUsage?.usage == TokenUsage(inputTokens: 12536, outputTokens: 1))
        let noUsage = try #require(AgentEvent.parse(Data(#"{"type":"assistant","message":{"id":"m","content":[]}}"#.utf8)))
        #expect(noUsage.messageUsage == nil)
    }

    @Test func dollarAmountsParseStrictly() {
        #expect(TaskService.parseDollars("5") == 5)
        #expect(TaskService.parseDollars("$0.50") == 0.5)
        for bad in ["", "abc", "1e3", "-1", "1.2.3", "inf", "nan", "0x10", "5 USD"] {
            #expect(TaskService.parseDollars(bad) == nil, "\(bad)")
        }
    }
}

extension CostMeterTests {
    @Test func claudeCodeGetsTheCapAsItsOwnBudget() {
        let invocation = AgentInvocation(executable: "claude", prompt: "p", credentials: AgentCredentials(apiKey: "k"), maxBudgetUSD: 2.5)
        let arguments = invocation.arguments
        let index = arguments.firstIndex(of: "--max-budget-usd")
        #expect(index.map { arguments[$0 + 1] } == "2.500000")
        #expect(arguments.suffix(2) == ["--", "p"])
        #expect(!AgentInvocation(executable: "claude", prompt: "p", credentials: AgentCredentials(apiKey: "k")).arguments.contains("--max-budget-usd"))
    }
}

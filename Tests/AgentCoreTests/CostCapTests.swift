import AgentCore
import CATestSupport
import Foundation
import Testing

/// `--max-cost` end to end: the real Claude Code binary in a local sandbox, the fake Anthropic
/// API reporting usage that crosses the cap mid-run. Whichever line of defence acts first (ca's
/// meter killing the agent, the gateway refusing the next call, or Claude Code's own
/// `--max-budget-usd`), the fake must see no model call after the one that crossed the cap.
@Suite(.serialized) struct CostCapTests {
    /// A tool turn that reports `input` tokens of usage.
    static func bash(_ command: String, input: Int) -> ScriptedTurn {
        ScriptedTurn.toolUse("Bash", ["command": .string(command)]).usage(input: input)
    }

    /// Six tool turns and an answer; the first writes a file, so there are changes to save.
    static func expensiveScript(input: Int) -> [ScriptedTurn] {
        [ScriptedTurn.toolUse("Write", ["file_path": "{{cwd}}/budget.txt", "content": "written before the cap\n"]).usage(input: input)]
            + (1...5).map { bash("echo turn \($0)", input: input) } + [ScriptedTurn.text("All done.").usage(input: input)]
    }

    func run(_ h: EngineHarness, cap: Double?, model: String? = nil) async throws -> TaskRecord {
        var request = TaskRequest(prompt: "do the expensive thing", repository: h.fixture.bare.path, timeoutSeconds: 180, model: model)
        request.maxCostUSD = cap
        let task = try await h.service.create(request)
        #expect(task.maxCostUSD == cap)
        return try await h.run(task)
    }

    func expectStoppedByTheCap(_ final: TaskRecord, _ h: EngineHarness, cap: Double, turnCost: Double, calls: Int) async throws {
        #expect(final.status == .failed, "\(final.error ?? "")")
        #expect(final.failureReason == .budgetExceeded, "\(final.error ?? "")")
        #expect(final.error?.contains("cost cap of \(CostFormat.dollars(cap))") == true, "\(final.error ?? "")")
        #expect(h.fake.messagesRequests.count == calls, "the fake saw \(h.fake.messagesRequests.count) model calls")
        // The cost is recorded and within one turn of the cap.
        let cost = try #require(final.costUSD)
        #expect(cost >= cap && cost <= cap + turnCost * 1.01, "cost \(cost)")
        // What the agent wrote before the cap is saved; the sandbox is gone.
        #expect(h.file(final, "files/budget.txt") == "written before the cap\n")
        #expect(h.liveSandboxes().isEmpty)
        let view = TaskView(final)
        #expect(view.failureReason == .budgetExceeded && view.maxCostUSD == cap)
    }

    @Test func theTaskStopsAtTheTurnThatReachesTheCap() async throws {
        // The default model is priced $4 per million input tokens: $0.60 a turn, so turn 3 reaches $1.50.
        let h = try await EngineHarness.make(script: Self.expensiveScript(input: 150_000))
        defer { Task { await h.cleanup() } }
        let final = try await run(h, cap: 1.5)
        try await expectStoppedByTheCap(final, h, cap: 1.5, turnCost: 0.6, calls: 3)
    }

    @Test func caStopsOnItsOwnPricesWhereClaudeCodeWouldGoOn() async throws {
        // ca's table says ten times Claude Code's price: ca's meter reaches $10 at turn 3, while
        // Claude Code's own budget (its prices) would allow 25 turns.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ca-prices-\(UUID().uuidString.prefix(8)).json")
        try Data(#"{"claude-opus-5": {"input": 40, "output": 200}}"#.utf8).write(to: root)
        defer { try? FileManager.default.removeItem(at: root) }
        let h = try await EngineHarness.make(script: Self.expensiveScript(input: 100_000), extra: ["CA_PRICE_TABLE": root.path])
        defer { Task { await h.cleanup() } }
        let final = try await run(h, cap: 10)
        try await expectStoppedByTheCap(final, h, cap: 10, turnCost: 4, calls: 3)
    }

    @Test func anUnknownModelIsPricedAsTheDearestKnownOne() async throws {
        // Claude Code prices an unknown name at $4 per million input tokens; ca at $15 (the
        // dearest it knows): $1.50 a turn, so turn 3 reaches the $4 cap (Claude Code: turn 10).
        let h = try await EngineHarness.make(script: Self.expensiveScript(input: 100_000))
        defer { Task { await h.cleanup() } }
        let final = try await run(h, cap: 4, model: "mystery-model-9")
        try await expectStoppedByTheCap(final, h, cap: 4, turnCost: 1.5, calls: 3)
    }

    @Test func aCloudTaskIsStoppedFromTheAgentsOwnLines() async throws {
        // A cloud sandbox has no ca gateway: the meter reads the usage on the agent's
        // `assistant` lines. ca's prices are ten times Claude Code's, so only ca stops it at turn 3.
        let novita = FakeNovitaService(options: .init(templateTools: ["claude": try ClaudeBinary.locate().path]))
        try await novita.start()
        defer { Task { try? await novita.stop() } }
        let prices = FileManager.default.temporaryDirectory.appendingPathComponent("ca-prices-\(UUID().uuidString.prefix(8)).json")
        try Data(#"{"claude-opus-5": {"input": 40, "output": 200}}"#.utf8).write(to: prices)
        defer { try? FileManager.default.removeItem(at: prices) }
        var extra = novita.environment(flavour: "novita")
        extra["CA_SANDBOX"] = "novita"
        extra["CA_PRICE_TABLE"] = prices.path
        let h = try await EngineHarness.make(script: Self.expensiveScript(input: 100_000), extra: extra)
        defer { Task { await h.cleanup() } }
        let final = try await run(h, cap: 10)
        #expect(final.sandboxBackend == .novita)
        // Without a gateway the crossing is known only from the agent's line for that turn, which
        // comes after the call; the fake answers at once, so the agent may get one more call out
        // before it is killed (a real model turn takes seconds). Claude Code alone would make 7.
        #expect(final.status == .failed && final.failureReason == .budgetExceeded, "\(final.error ?? "")")
        #expect((3...4).contains(h.fake.messagesRequests.count), "the fake saw \(h.fake.messagesRequests.count) model calls")
        #expect(h.file(final, "files/budget.txt") == "written before the cap\n")
        #expect(novita.liveSandboxCount == 0)
    }

    @Test func aTaskUnderItsCapSucceedsAndAResumedTaskCostsOnlyItsOwnCalls() async throws {
        let h = try await EngineHarness.make(script: [
            ScriptedTurn.toolUse("Write", ["file_path": "{{cwd}}/budget.txt", "content": "one\n"]).usage(input: 100_000),
            ScriptedTurn.text("First done.").usage(input: 100_000),
            ScriptedTurn.text("Second done.").usage(input: 100_000),
        ])
        defer { Task { await h.cleanup() } }
        let parent = try await run(h, cap: 5)
        #expect(parent.status == .succeeded && parent.failureReason == nil, "\(parent.error ?? "")")
        let parentCost = try #require(parent.costUSD)
        #expect(abs(parentCost - 0.8) < 0.01, "two turns of 100k input tokens at $4/M: \(parentCost)")
        #expect(abs((parent.sessionCostUSD ?? 0) - parentCost) < 1e-9)

        let child = try await h.service.resume(parent.id, TaskResumeRequest(prompt: "and again", maxCostUSD: 5))
        let final = try await h.run(child)
        #expect(final.status == .succeeded, "\(final.error ?? "")")
        let own = try #require(final.costUSD)
        let session = try #require(final.sessionCostUSD)
        // Claude Code reports the whole session; the task records its own share (one turn).
        #expect(abs(own - 0.4) < 0.05, "\(own)")
        #expect(abs(session - (parentCost + own)) < 1e-6, "session \(session), parent \(parentCost), own \(own)")
    }

    @Test func theBuiltInPricesAreClaudeCodesOwn() async throws {
        // For each model, the cost Claude Code reports for the usage it got must be what ca's
        // table says for that usage (cache reads included).
        for model in ["claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "claude-opus-4-5", "claude-sonnet-4-5", "claude-3-5-haiku-20241022"] {
            let h = try await EngineHarness.make(script: [ScriptedTurn.text("Priced.").usage(input: 12_345, output: 678, cacheRead: 40_000, cacheCreation: 20_000)])
            defer { Task { await h.cleanup() } }
            let final = try await run(h, cap: nil, model: model)
            #expect(final.status == .succeeded, "\(model): \(final.error ?? "")")
            let resultEvent = try #require(try await h.service.store.events(taskID: final.id).last { $0.type == "result" })
            let object = try #require(try JSONSerialization.jsonObject(with: Data(resultEvent.payload.utf8)) as? [String: Any])
            let usageByModel = try #require(object["modelUsage"] as? [String: [String: Any]])
            #expect(!usageByModel.isEmpty)
            for (name, usage) in usageByModel {
                let tokens = TokenUsage(inputTokens: usage["inputTokens"] as? Int ?? -1, outputTokens: usage["outputTokens"] as? Int ?? -1,
                                        cacheCreationTokens: usage["cacheCreationInputTokens"] as? Int ?? 0,
                                        cacheReadTokens: usage["cacheReadInputTokens"] as? Int ?? 0)
                #expect(tokens.cacheReadTokens == 40_000 && tokens.cacheCreationTokens == 20_000 && tokens.outputTokens == 678, "\(name): \(usage)")
                let theirs = try #require(usage["costUSD"] as? Double)
                let ours = PriceTable.builtIn.price(of: name).cost(of: tokens)
                #expect(abs(ours - theirs) <= theirs * 1e-9, "\(name): Claude Code says \(theirs), ca's table \(ours) for \(usage)")
            }
        }
    }

    @Test func aBadCapOrPriceTableIsRefusedBeforeAnythingRuns() async throws {
        let h = try await EngineHarness.make(script: [], extra: ["CA_PRICE_TABLE": "/nonexistent/ca-prices.json"])
        defer { Task { await h.cleanup() } }
        for cap in [0, -1, .infinity, .nan, 1_000_000] as [Double] {
            var request = TaskRequest(prompt: "x", repository: h.fixture.bare.path)
            request.maxCostUSD = cap
            await #expect(throws: TaskError.self, "\(cap)") { try await h.service.create(request) }
        }
        var request = TaskRequest(prompt: "x", repository: h.fixture.bare.path)
        request.maxCostUSD = 5
        do { _ = try await h.service.create(request); Issue.record("a missing price table was accepted") } catch {
            #expect(error.description.contains("CA_PRICE_TABLE"), "\(error)")
        }
        #expect(try await h.service.list(status: nil, limit: 10).isEmpty)
        #expect(h.fake.requests.isEmpty)
    }
}

import Foundation

/// The running cost of a task and its cap (`--max-cost`).
///
/// Two sources feed the task's ``CostMeter``: the usage the agent reports on its `assistant`
/// lines (every backend), and, for a local sandbox, the answers of the model API as they pass
/// through ca's gateway, which carry the final output counts the agent's lines lack. When the
/// meter reaches the cap the runner stops the agent at once, and the gateway refuses any
/// further model call, so an agent whose own accounting is wrong (or lies) cannot spend on.
/// Claude Code gets the cap as `--max-budget-usd` too, as a second line of defence.
extension TaskRunner {
    /// Adds one `assistant` line's usage; returns whether that reached the cap (the task is
    /// then asked to stop).
    func recordCost(_ message: AgentEvent.MessageUsage) -> Bool {
        guard let meter = state.withLock({ $0.meter }) else { return false }
        meter.record(messageID: message.messageID, model: message.model, usage: message.usage)
        checkBudget()
        return meter.exceeded
    }

    /// Stops the task once the meter reached the cap.
    func checkBudget() {
        guard let meter = state.withLock({ $0.meter }), let cap = meter.cap, meter.exceeded else { return }
        requestStop(.budgetExceeded(cap: cap, spent: meter.spent))
    }

    /// What this run of the task cost, in dollars: the larger of Claude Code's figure (less what
    /// a resumed session had cost before this task) and ca's meter, which prices a model it does
    /// not know as the dearest it knows and follows `CA_PRICE_TABLE`; `nil` when no model call
    /// was seen. For the built-in models the two agree.
    func costOfRun(_ task: TaskRecord, result: AgentResult?) async -> Double? {
        let metered = state.withLock { $0.meter }.flatMap { $0.calls > 0 ? $0.spent : nil }
        guard let total = result?.totalCostUSD else { return metered }
        var own = total
        if let parentID = task.parentID, let parent = try? await store.task(id: parentID),
           let before = parent.sessionCostUSD ?? parent.costUSD, before <= total {
            own = total - before
        }
        return max(own, metered ?? 0)
    }

    /// The stable code of an unsuccessful outcome.
    func failureReason(of outcome: Outcome) -> TaskFailureReason? {
        if let reason = outcome.reason { return reason }
        if let result = outcome.result, !result.succeeded {
            if result.subtype == "error_max_budget_usd" { return .budgetExceeded }
            if result.subtype == "error_max_turns" { return .maxTurns }
            if result.terminalReason == "api_error" || result.apiErrorStatus != nil { return .apiError }
        }
        if let stop = state.withLock({ $0.stopReason }), stop.status == outcome.status { return stop.failureReason }
        return nil
    }
}

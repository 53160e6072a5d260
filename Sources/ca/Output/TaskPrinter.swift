import AgentCore
import Foundation

/// Human output for tasks: the end-of-run summary, `get` and `list`.
struct TaskPrinter {
    let console: Console
    let paths: CAPaths

    func statusLabel(_ status: TaskStatus) -> String {
        switch status {
        case .succeeded: return console.style("✓ succeeded", "32")
        case .failed: return console.style("✗ failed", "31")
        case .cancelled: return console.style("⊘ cancelled", "33")
        case .timedOut: return console.style("⏱ timed out", "33")
        case .running: return console.style("● running", "36")
        case .queued: return console.style("○ queued", "2")
        }
    }

    func metrics(_ t: TaskRecord) -> String {
        var parts: [String] = []
        if let start = t.startedAt { parts.append(DurationFormat.elapsed((t.finishedAt ?? Date()).timeIntervalSince(start))) }
        if let turns = t.numTurns { parts.append("\(turns) turn\(turns == 1 ? "" : "s")") }
        if let cost = t.costUSD {
            parts.append(String(format: "$%.4f", cost) + (t.maxCostUSD.map { " of " + CostFormat.dollars($0) + " cap" } ?? ""))
        } else if let cap = t.maxCostUSD {
            parts.append("cap " + CostFormat.dollars(cap))
        }
        if let input = t.inputTokens, let output = t.outputTokens { parts.append("\(input) in / \(output) out tokens") }
        return parts.joined(separator: " · ")
    }

    /// The lines printed when a foreground task ends.
    func summary(_ t: TaskRecord, artifacts: [ArtifactRecord]) {
        console.out("")
        let m = metrics(t)
        console.out(statusLabel(t.status) + (m.isEmpty ? "" : " · " + m))
        if let error = t.error { console.out(console.style(console.safe("  \(error)"), "31")) }
        if let result = t.result, !result.isEmpty, t.status == .succeeded {
            for line in console.safe(result).split(separator: "\n", omittingEmptySubsequences: false) { console.out("  \(line)") }
        }
        if !artifacts.isEmpty {
            let files = artifacts.filter { $0.kind == .file }.count
            let skipped = artifacts.filter { $0.kind == .skipped }.count
            var line = "files: \(paths.taskFolder(t.id).path)  (\(files) changed file\(files == 1 ? "" : "s")"
            if artifacts.contains(where: { $0.kind == .patch }) { line += ", patch.diff" }
            if skipped > 0 { line += ", \(skipped) skipped — see `ca task files \(t.id)`" }
            console.out(line + ")")
        }
        if let url = t.pullRequestURL, t.status == .succeeded {
            console.out("pull request: \(console.safe(url))")
        } else if t.github?.openPullRequest != nil, t.status == .succeeded {
            console.out("no changes: no pull request opened")
        }
        if let url = t.reviewURL { console.out("review posted: \(console.safe(url))") }
        if t.sessionID != nil && t.status.isTerminal {
            if let until = t.pausedUntil, t.pausedSandboxID != nil {
                console.out(console.style("sandbox kept paused until \(KeepAlive.clockTime(until)): a resume before then continues in it", "2"))
            }
            console.out(console.style("resume: ca task resume \(t.id) \"<next prompt>\"", "2"))
        }
    }

    /// `ca task get`.
    func detail(_ t: TaskRecord) {
        func row(_ k: String, _ v: String?) { if let v { console.out("\(k.padding(toLength: 11, withPad: " ", startingAt: 0)) \(v)") } }
        row("id", t.id)
        row("status", statusLabel(t.status))
        row("error", t.error.map(console.safe))
        row("reason", t.failureReason?.rawValue)
        row("prompt", console.safe(t.prompt))
        row("repository", console.safe(t.repositoryURL))
        row("branch", t.branch.map(console.safe))
        row("base", t.baseCommit)
        row("parent", t.parentID)
        row("sandbox", "\(t.sandboxBackend)\(t.sandboxID.map { " · \($0)" } ?? "")")
        row("session", t.sessionID)
        if let seconds = t.keepAliveSeconds {
            let held = t.pausedSandboxID.map { id in " · sandbox \(id) paused until \(t.pausedUntil.map(KeepAlive.clockTime) ?? "?")" } ?? ""
            row("keep-alive", DurationFormat.describe(seconds: seconds) + held)
        }
        row("model", t.model)
        row("created", JSONOutput.timestamp(t.createdAt))
        row("started", t.startedAt.map(JSONOutput.timestamp))
        row("finished", t.finishedAt.map(JSONOutput.timestamp))
        let m = metrics(t)
        row("metrics", m.isEmpty ? nil : m)
        row("files", paths.taskFolder(t.id).path)
        row("pr", t.pullRequestURL.map(console.safe))
        row("review", t.reviewURL.map(console.safe))
        if t.notifyURL != nil {
            row("notify", t.notifyStatus.map { "\(t.notifyAttempts ?? 0) attempt\(t.notifyAttempts == 1 ? "" : "s"), last: \(console.safe($0))" } ?? "not sent yet")
        }
        if let result = t.result, !result.isEmpty {
            console.out("result")
            for line in console.safe(result).split(separator: "\n", omittingEmptySubsequences: false) { console.out("  \(line)") }
        }
    }

    /// The attempts of a best-of-N task (`ca task get`, and the end of a foreground run).
    func attempts(_ attempts: [TaskAttemptView]) {
        console.out("attempts")
        for a in attempts {
            let cost = a.costUSD.map { String(format: "$%.4f", $0) } ?? "-"
            var changes = "no changes saved"
            if let files = a.filesChanged {
                changes = "\(files) file\(files == 1 ? "" : "s")" + (a.patchBytes.map { ", patch \($0) bytes" } ?? "")
            }
            console.out("  \(a.attempt)  \(a.id.padding(toLength: 13, withPad: " ", startingAt: 0)) \(statusLabel(a.status)) · \(cost) · \(changes)")
            if let error = a.error, a.status != .succeeded { console.out(console.style(console.safe("     \(error)"), "31")) }
        }
    }

    /// `ca task list`.
    func table(_ tasks: [TaskRecord]) {
        guard !tasks.isEmpty else { console.out("no tasks"); return }
        console.out(console.style("ID            STATUS      AGE   COST     PROMPT", "1"))
        let now = Date()
        for t in tasks {
            let age = Self.age(now.timeIntervalSince(t.createdAt))
            let cost = t.costUSD.map { String(format: "$%.2f", $0) } ?? "-"
            let prompt = (t.attempts.map { "×\($0) " } ?? "") + console.safe(EventFormatter.clip(t.prompt.replacingOccurrences(of: "\n", with: " "), 60))
            let status = t.status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
            console.out("\(t.id.padding(toLength: 13, withPad: " ", startingAt: 0)) \(status) \(age.padding(toLength: 5, withPad: " ", startingAt: 0)) \(cost.padding(toLength: 8, withPad: " ", startingAt: 0)) \(prompt)")
        }
    }

    static func age(_ seconds: TimeInterval) -> String {
        let s = Int(seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86400 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }
}

import AgentCore
import Foundation
import Synchronization

/// Shows a running task in the foreground: one line per step, the agent's text and tool calls,
/// and on a terminal a spinner with the elapsed time. Silent with `--json`.
final class ProgressPrinter: Sendable {
    private struct State {
        var status = "starting"
        var spinnerShown = false
        var frame = 0
        var toolCalls = 0
        var spinner: Task<Void, Never>?
    }

    private let console: Console
    private let formatter: EventFormatter
    private let task: TaskRecord
    /// The running cost shown on the spinner line, from the usage on the agent's lines.
    private let meter: CostMeter
    private let state = Mutex(State())
    private let started = Date()
    /// Put before every line: the attempt's number when several attempts print at once (then
    /// there is no spinner).
    private let prefix: String?
    private var live: Bool { !console.json }
    private var animated: Bool { !console.json && console.stderrIsTTY && console.stdoutIsTTY && prefix == nil }

    init(console: Console, task: TaskRecord, prefix: String? = nil) {
        self.prefix = prefix
        self.console = console
        self.formatter = EventFormatter(console: console)
        self.task = task
        self.meter = CostMeter(cap: task.maxCostUSD, prices: (try? PriceTable.from(environment: ProcessInfo.processInfo.environment)) ?? .builtIn)
    }

    func begin(backendNotice: String?) {
        guard live else { return }
        if let backendNotice { console.notice(backendNotice) }
        console.out((prefix.map { console.style($0, "1") } ?? "") + console.style("task \(task.id)", "1")
                    + console.style(" · \(task.sandboxBackend) sandbox · \(console.safe(task.repositoryURL))", "2"))
        guard animated else { return }
        let spinner = Task { [weak self] in
            while !Task.isCancelled {
                self?.drawSpinner()
                try? await Task.sleep(for: .milliseconds(120))
            }
        }
        state.withLock { $0.spinner = spinner }
    }

    /// Stops the spinner (waiting for its last frame) and erases it.
    func end() async {
        let spinner = state.withLock { s -> Task<Void, Never>? in defer { s.spinner = nil }; return s.spinner }
        spinner?.cancel()
        await spinner?.value
        clearSpinner()
    }

    func handle(_ progress: TaskProgress) {
        guard live else { return }
        switch progress {
        case .step(let name, let message):
            state.withLock { $0.status = name }
            emit([formatter.line(step: message)])
        case .agent(let event):
            if let message = event.messageUsage { meter.record(messageID: message.messageID, model: message.model, usage: message.usage) }
            for kind in event.kinds { if case .toolUse = kind { state.withLock { $0.toolCalls += 1 } } }
            state.withLock { $0.status = "agent working" }
            emit(formatter.lines(for: event))
        case .finished:
            break
        }
    }

    /// A stored event (a server's task, followed over the API) shown as the runner's progress is.
    func handle(_ record: EventRecord) {
        if record.type == "ca" {
            let message = (try? JSONDecoder().decode([String: String].self, from: Data(record.payload.utf8)))?["message"] ?? record.payload
            handle(.step(name: record.subtype ?? "step", message: message))
        } else if let event = AgentEvent.parse(Data(record.payload.utf8)) {
            handle(.agent(event))
        }
    }

    /// Prints lines, first erasing the spinner; under the state lock so a spinner frame can
    /// never land between the erase and the lines.
    private func emit(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        state.withLock { s in
            Self.eraseSpinner(&s)
            for line in lines { console.out((prefix.map { console.style($0, "1") } ?? "") + line) }
        }
    }

    private static let frames = Array("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")

    private func drawSpinner() {
        state.withLock { s in
            s.frame += 1
            s.spinnerShown = true
            let elapsed = DurationFormat.elapsed(Date().timeIntervalSince(started))
            var line = "\(Self.frames[s.frame % Self.frames.count]) \(s.status) · \(elapsed) · \(s.toolCalls) tool call\(s.toolCalls == 1 ? "" : "s")"
            if meter.calls > 0 || meter.cap != nil {
                line += " · ~" + CostFormat.dollars(meter.spent) + (meter.cap.map { " of " + CostFormat.dollars($0) } ?? "")
            }
            StandardStream.error.write(Data("\r\u{1B}[2K\(console.style(line, "2"))".utf8))
        }
    }

    private func clearSpinner() {
        state.withLock { Self.eraseSpinner(&$0) }
    }

    /// Erases the spinner line if it is shown; the caller holds the state lock.
    private static func eraseSpinner(_ s: inout State) {
        guard s.spinnerShown else { return }
        StandardStream.error.write(Data("\r\u{1B}[2K".utf8))
        s.spinnerShown = false
    }
}

import Foundation
import Synchronization

/// Counters of `ca serve` for `/metrics` (Prometheus text format, version 0.0.4), together with
/// the store's gauges (tasks by status, queue depth) read when scraped.
public final class ServerMetrics: Sendable {
    private struct State {
        var requests: [String: Int] = [:]
        var finished: [String: Int] = [:]
        var durationSum: [String: Double] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    func countRequest(operation: String, status: Int) {
        state.withLock { $0.requests["\(operation)|\(status)", default: 0] += 1 }
    }

    func taskFinished(status: String, seconds: Double) {
        state.withLock { s in
            s.finished[status, default: 0] += 1
            s.durationSum[status, default: 0] += seconds
        }
    }

    /// The exposition text, with the gauges given.
    func render(tasksByStatus: [String: Int], queueDepth: Int, running: Int) -> String {
        let s = state.withLock { $0 }
        var lines: [String] = []
        lines.append("# HELP ca_tasks Tasks in the store by status.")
        lines.append("# TYPE ca_tasks gauge")
        for (status, count) in tasksByStatus.sorted(by: { $0.key < $1.key }) { lines.append("ca_tasks{status=\"\(status)\"} \(count)") }
        lines.append("# HELP ca_queue_depth Tasks waiting in this server's queue.")
        lines.append("# TYPE ca_queue_depth gauge")
        lines.append("ca_queue_depth \(queueDepth)")
        lines.append("# HELP ca_tasks_running Tasks this server runs now.")
        lines.append("# TYPE ca_tasks_running gauge")
        lines.append("ca_tasks_running \(running)")
        lines.append("# HELP ca_task_duration_seconds Time from start to end of tasks this server ran.")
        lines.append("# TYPE ca_task_duration_seconds summary")
        for (status, count) in s.finished.sorted(by: { $0.key < $1.key }) {
            lines.append("ca_task_duration_seconds_count{status=\"\(status)\"} \(count)")
            lines.append("ca_task_duration_seconds_sum{status=\"\(status)\"} \(s.durationSum[status] ?? 0)")
        }
        lines.append("# HELP ca_http_requests_total HTTP requests by operation and status.")
        lines.append("# TYPE ca_http_requests_total counter")
        for (key, count) in s.requests.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|")
            lines.append("ca_http_requests_total{operation=\"\(parts[0])\",status=\"\(parts[1])\"} \(count)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

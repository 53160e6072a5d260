import AgentCore
import Foundation
import Prometheus

/// The metrics of `ca serve` for `GET /metrics`, kept in a swift-prometheus registry: HTTP
/// requests by operation and status, task durations by outcome, and the store's gauges (tasks
/// by status, queue depth, running) set when scraped.
public final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    /// Buckets of task durations: a few seconds to a few hours.
    private static let durationBuckets: [Duration] = [
        .seconds(1), .seconds(5), .seconds(15), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
        .seconds(600), .seconds(1800), .seconds(3600), .seconds(3 * 3600), .seconds(12 * 3600),
    ]

    public init() {}

    func countRequest(operation: String, status: Int) {
        registry.makeCounter(
            descriptor: .init(namespace: "ca", metricName: "http_requests", unitName: "total", helpText: "HTTP requests by operation and status."),
            labels: [("operation", operation), ("status", String(status))]
        ).increment()
    }

    func taskFinished(status: TaskStatus, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "ca", metricName: "task_duration", unitName: "seconds",
                              helpText: "Time from start to end of the tasks this server ran, by outcome."),
            labels: [("status", status.rawValue)], buckets: Self.durationBuckets
        ).record(duration)
    }

    /// The exposition text (Prometheus text format 0.0.4), with the gauges set to the values given.
    func render(tasksByStatus: [TaskStatus: Int], queueDepth: Int, running: Int) -> String {
        for status in TaskStatus.allCases {
            registry.makeGauge(descriptor: .init(namespace: "ca", metricName: "tasks", unitName: "", helpText: "Tasks in the store by status."),
                               labels: [("status", status.rawValue)]).set(Double(tasksByStatus[status] ?? 0))
        }
        registry.makeGauge(descriptor: .init(namespace: "ca", metricName: "queue_depth", unitName: "", helpText: "Tasks waiting in this server's queue."))
            .set(Double(queueDepth))
        registry.makeGauge(descriptor: .init(namespace: "ca", metricName: "tasks_running", unitName: "", helpText: "Tasks this server runs now."))
            .set(Double(running))
        return registry.emitToString()
    }
}

import AgentCore
import CAAPI
import Foundation
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import ServiceLifecycle
import UnixSignals

/// `ca serve`: the task engine behind the HTTP API of `openapi.yaml`.
///
/// One ``TaskService`` (store, providers, the shared HTTP client) serves everything; a
/// `ServiceGroup` owns the long-lived parts: the HTTP server and the ``TaskQueue``. On SIGTERM
/// or SIGINT the queue drains first (new tasks get 503, running ones get the grace period),
/// then the HTTP server stops, then the service's HTTP client is shut down.
public enum CAServerApp {
    /// The router with the API, its middlewares and handlers, and the web dashboard.
    public static func buildRouter(service: TaskService, queue: TaskQueue, configuration: ServerConfiguration,
                                   metrics: ServerMetrics, adminKey: String?) throws -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: UnmatchedRouteMiddleware(table: .api, metrics: metrics))
        let auth = AuthMiddleware(store: service.store, adminKey: adminKey)
        DashboardRoutes(service: service, auth: auth).register(on: router)
        let api = TaskAPI(service: service, queue: queue, configuration: configuration, metrics: metrics)
        try api.registerHandlers(
            on: router, configuration: Configuration(dateTranscoder: .iso8601WithFractionalSeconds, jsonEncodingOptions: [.sortedKeys]),
            middlewares: [ProblemMiddleware(metrics: metrics), auth,
                          RequestBodyMiddleware(maximumSize: configuration.maximumBodySize, maximumBundleSize: configuration.maximumBundleSize),
                          TaskResponseCache(store: service.store)])
        return router
    }

    /// The application (not yet running).
    public static func buildApplication(service: TaskService, queue: TaskQueue, configuration: ServerConfiguration,
                                        metrics: ServerMetrics, adminKey: String?, logger: Logger,
                                        onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let router = try buildRouter(service: service, queue: queue, configuration: configuration, metrics: metrics, adminKey: adminKey)
        return Application(
            router: router,
            server: .http1(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "ca"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }

    /// Runs the server until SIGTERM or SIGINT, then shuts down gracefully.
    /// - Parameter onListening: called with the port once the server accepts connections.
    public static func run(configuration: ServerConfiguration, environment: [String: String],
                           onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let (group, _) = try makeServiceGroup(configuration: configuration, environment: environment, signals: [.sigterm, .sigint],
                                              onListening: onListening)
        try await group.run()
    }

    /// The server's service group (the HTTP server and the queue, over one task service), for
    /// ``run(configuration:environment:onListening:)`` and for tests, which trigger the graceful
    /// shutdown themselves.
    public static func makeServiceGroup(configuration: ServerConfiguration, environment: [String: String],
                                        signals: [UnixSignal] = [], logLevel: Logger.Level = .info,
                                        onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> (ServiceGroup, TaskQueue) {
        var logger = Logger(label: "ca.serve")
        logger.logLevel = logLevel
        let service = try TaskService(environment: environment)
        let metrics = ServerMetrics()
        let queue = TaskQueue(service: service, configuration: configuration, metrics: metrics, logger: logger)
        let app = try buildApplication(service: service, queue: queue, configuration: configuration, metrics: metrics,
                                       adminKey: environment["CA_ADMIN_KEY"], logger: logger, onListening: onListening)
        // Shut down in reverse order: the queue drains while the HTTP server still answers.
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app), .init(service: queue)],
            gracefulShutdownSignals: signals,
            logger: logger))
        return (group, queue)
    }
}

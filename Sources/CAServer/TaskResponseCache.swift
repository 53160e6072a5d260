import AgentCore
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Answers of `GET /v1/tasks/{id}` by whole id (what pollers call), kept per task and key.
///
/// An answer is what the generated handler produced, replayed while the store's change stamp of
/// the task is what it was before the handler read it (every change this server makes ends it)
/// and for at most a second, the bound on how late a change made by another process (a
/// `ca task cancel` on the same store) shows. Only 200 answers are kept, per key name, so a hit
/// never shows a task to a key that could not see it. Bounded: when full, it starts over.
struct TaskResponseCache: ServerMiddleware {
    private struct Entry: Sendable {
        var response: HTTPResponse
        var body: [UInt8]
        /// The task's change stamp before the handler read it.
        var stamp: UInt64
    }

    /// Largest answer kept.
    static let maximumBodySize = 256 << 10

    let store: TaskStore
    private let answers: ExpiringCache<Entry>

    /// - Parameter maximumAge: how long an answer may be replayed (how late another process's
    ///   change may show).
    init(store: TaskStore, maximumAge: Duration = .seconds(1), capacity: Int = 10_000) {
        self.store = store
        self.answers = ExpiringCache(maximumAge: maximumAge, capacity: capacity)
    }

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard operationID == "getTask", let principal = RequestPrincipal.current,
              let id = metadata.pathParameters["id"].map({ String($0).lowercased() }), TaskID.isWhole(id) else {
            return try await next(request, body, metadata)
        }
        let key = id + "|" + (principal.admin ? "*" : principal.name)
        // Read before the handler reads the store: a change after this point ends the entry.
        let stamp = store.changeStamp(of: id)
        let now = ContinuousClock.now
        if let entry = answers.value(for: key, now: now), entry.stamp == stamp {
            return (entry.response, HTTPBody(entry.body))
        }
        let (response, responseBody) = try await next(request, body, metadata)
        guard response.status == .ok, let responseBody else { return (response, responseBody) }
        let bytes = try await [UInt8](collecting: responseBody, upTo: Self.maximumBodySize)
        answers.store(Entry(response: response, body: bytes, stamp: stamp), for: key, at: now)
        return (response, HTTPBody(bytes))
    }
}

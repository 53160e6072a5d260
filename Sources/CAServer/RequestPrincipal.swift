import AgentCore

/// Who sent the request being handled: the name of its API key, and whether it is an admin key.
/// Set by ``AuthMiddleware`` for the handler's task.
public struct RequestPrincipal: Sendable, Hashable {
    public var name: String
    public var admin: Bool
    /// The key's default webhook and cost cap for the tasks it creates (`ca keys create --notify/--max-cost`).
    public var notifyURL: String?
    public var maxCostUSD: Double?

    @TaskLocal static var current: RequestPrincipal?

    /// Whether this principal may see a task: its own, or any for an admin key.
    func canSee(_ task: TaskRecord) -> Bool {
        admin || task.owner == name
    }
}

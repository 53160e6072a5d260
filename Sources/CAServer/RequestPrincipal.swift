import AgentCore

/// Who sent the request being handled: the name of its API key, and whether it is an admin key.
/// Set by ``AuthMiddleware`` for the handler's task.
public struct RequestPrincipal: Sendable, Hashable {
    public var name: String
    public var admin: Bool

    @TaskLocal static var current: RequestPrincipal?

    /// Whether this principal may see a task: its own, or any for an admin key.
    func canSee(_ task: TaskRecord) -> Bool {
        admin || task.owner == name
    }
}

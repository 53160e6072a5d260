import Foundation

/// What a backend found when it listed its sandboxes: the live ones, and those it could not
/// list or clean up.
///
/// One broken sandbox must not hide the others: a listing goes on past it and names it in
/// ``problems``.
public struct SandboxListing: Sendable, Hashable {
    /// Live sandboxes matching the request.
    public var sandboxes: [SandboxInfo]
    /// Sandboxes that could not be listed, or that had expired but could not be removed:
    /// sandbox id → what went wrong.
    public var problems: [String: String]

    public init(sandboxes: [SandboxInfo], problems: [String: String] = [:]) {
        self.sandboxes = sandboxes
        self.problems = problems
    }
}

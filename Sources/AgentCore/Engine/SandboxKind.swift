/// The sandbox backends ca knows.
public enum SandboxKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// bubblewrap on this machine.
    case local
    /// Novita Agent Sandbox.
    case novita
    /// E2B.
    case e2b

    /// Parses a name case-insensitively; `nil` for anything else.
    public init?(name: String) {
        self.init(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// Whether the backend runs sandboxes on someone else's machine.
    public var isCloud: Bool { self != .local }

    public var description: String { rawValue }
}

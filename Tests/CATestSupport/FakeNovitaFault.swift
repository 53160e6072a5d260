import Foundation

/// A failure the fake Novita service injects into the next requests to a path.
public enum FakeNovitaFault: Sendable, Hashable {
    /// Answer with this status and `{"code": status, "message": …}`, with `Retry-After` when given.
    case status(Int, retryAfter: Int? = nil)
    /// Close the connection without answering.
    case dropConnection
}

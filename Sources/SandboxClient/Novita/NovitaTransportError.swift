import Foundation

/// A failure of the HTTP connection itself (no response, or a body cut short).
public struct NovitaTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as far as retrying is concerned.
    public enum Kind: String, Sendable, Hashable {
        /// The connection was reset or closed early; a safe request may be repeated.
        case connectionReset
        /// No bytes arrived in time.
        case timedOut
        /// The calling task was cancelled.
        case cancelled
        /// Anything else (refused connection, TLS, malformed response).
        case other
    }

    /// The kind of failure.
    public var kind: Kind
    /// A description without secrets.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    /// Wraps any error thrown while reading a body; ``NovitaTransportError``s pass through.
    public static func from(_ error: any Error) -> NovitaTransportError {
        if let error = error as? NovitaTransportError { return error }
        if error is CancellationError { return NovitaTransportError(.cancelled, "cancelled") }
        return NovitaTransportError(.other, String(describing: error))
    }
}

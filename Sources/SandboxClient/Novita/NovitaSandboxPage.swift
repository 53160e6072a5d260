import Foundation

/// One page of a sandbox listing.
public struct NovitaSandboxPage: Sendable, Hashable {
    /// The sandboxes of this page.
    public var sandboxes: [SandboxInfo]
    /// Token of the next page (`x-next-token`), `nil` on the last page.
    public var nextToken: String?

    public init(sandboxes: [SandboxInfo], nextToken: String?) {
        self.sandboxes = sandboxes
        self.nextToken = nextToken
    }
}

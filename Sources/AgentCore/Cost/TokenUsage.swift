import Foundation

/// The tokens of one model call, as the Messages API reports them in `usage`.
///
/// Counts come from the agent or the API: they are clamped to `0...Int.max` and never trap.
public struct TokenUsage: Sendable, Hashable {
    public var inputTokens: Int
    public var outputTokens: Int
    /// `cache_creation_input_tokens` (every lifetime).
    public var cacheCreationTokens: Int
    /// Of those, the ones written with the 1-hour lifetime (`cache_creation.ephemeral_1h_input_tokens`).
    public var cacheCreationLongTokens: Int
    public var cacheReadTokens: Int

    public init(inputTokens: Int = 0, outputTokens: Int = 0, cacheCreationTokens: Int = 0, cacheCreationLongTokens: Int = 0, cacheReadTokens: Int = 0) {
        self.inputTokens = max(0, inputTokens)
        self.outputTokens = max(0, outputTokens)
        self.cacheCreationTokens = max(0, cacheCreationTokens)
        self.cacheCreationLongTokens = min(max(0, cacheCreationLongTokens), self.cacheCreationTokens)
        self.cacheReadTokens = max(0, cacheReadTokens)
    }

    /// Reads a `usage` object; `nil` when it has none of the counts.
    public init?(json usage: [String: Any]) {
        let input = SaturatingNumber.count(usage["input_tokens"])
        let output = SaturatingNumber.count(usage["output_tokens"])
        let creation = SaturatingNumber.count(usage["cache_creation_input_tokens"])
        let read = SaturatingNumber.count(usage["cache_read_input_tokens"])
        guard input != nil || output != nil || creation != nil || read != nil else { return nil }
        let long = SaturatingNumber.count((usage["cache_creation"] as? [String: Any])?["ephemeral_1h_input_tokens"])
        self.init(inputTokens: input ?? 0, outputTokens: output ?? 0, cacheCreationTokens: creation ?? 0,
                  cacheCreationLongTokens: long ?? 0, cacheReadTokens: read ?? 0)
    }

    /// The larger count of each field: several reports of one message (the stream's start and
    /// end, the agent's partial copies) describe the same call, the latest being the largest.
    public func merged(with other: TokenUsage) -> TokenUsage {
        TokenUsage(inputTokens: max(inputTokens, other.inputTokens), outputTokens: max(outputTokens, other.outputTokens),
                   cacheCreationTokens: max(cacheCreationTokens, other.cacheCreationTokens),
                   cacheCreationLongTokens: max(cacheCreationLongTokens, other.cacheCreationLongTokens),
                   cacheReadTokens: max(cacheReadTokens, other.cacheReadTokens))
    }
}

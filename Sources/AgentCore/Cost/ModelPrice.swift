import Foundation

/// What one model charges, in US dollars per million tokens.
public struct ModelPrice: Sendable, Hashable {
    /// Uncached input tokens.
    public var input: Double
    /// Output tokens (thinking included).
    public var output: Double
    /// Tokens written to the prompt cache with the 5-minute lifetime.
    public var cacheWrite: Double
    /// Tokens written to the prompt cache with the 1-hour lifetime.
    public var cacheWriteLong: Double
    /// Tokens read from the prompt cache.
    public var cacheRead: Double

    /// A price; the cache prices default to Anthropic's ratios (writes 1.25× and 2× input, reads 0.1× input).
    public init(input: Double, output: Double, cacheWrite: Double? = nil, cacheWriteLong: Double? = nil, cacheRead: Double? = nil) {
        self.input = input
        self.output = output
        self.cacheWrite = cacheWrite ?? input * 1.25
        self.cacheWriteLong = cacheWriteLong ?? input * 2
        self.cacheRead = cacheRead ?? input * 0.1
    }

    /// What `usage` costs at this price, in dollars. Never negative, never NaN; huge counts give a huge (finite) figure.
    public func cost(of usage: TokenUsage) -> Double {
        let shortWrites = max(0, usage.cacheCreationTokens - usage.cacheCreationLongTokens)
        let total = Double(usage.inputTokens) * input + Double(usage.outputTokens) * output
            + Double(shortWrites) * cacheWrite + Double(usage.cacheCreationLongTokens) * cacheWriteLong
            + Double(usage.cacheReadTokens) * cacheRead
        let dollars = total / 1_000_000
        return dollars.isFinite ? max(0, dollars) : .greatestFiniteMagnitude
    }

    /// The most expensive of two prices, field by field.
    func atLeast(_ other: ModelPrice) -> ModelPrice {
        ModelPrice(input: max(input, other.input), output: max(output, other.output), cacheWrite: max(cacheWrite, other.cacheWrite),
                   cacheWriteLong: max(cacheWriteLong, other.cacheWriteLong), cacheRead: max(cacheRead, other.cacheRead))
    }
}

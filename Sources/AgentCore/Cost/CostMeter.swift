import Foundation
import Synchronization

/// A task's running cost: the usage of every model call it made, priced by a ``PriceTable``,
/// against an optional cap (`--max-cost`).
///
/// Calls are told apart by their message id, so the several reports of one call (the agent's
/// partial `assistant` lines, the stream's `message_start` and `message_delta` seen by ca's
/// gateway) count once, at their largest. The agent can send anything, so the meter is bounded:
/// past ``maximumTrackedMessages`` ids, the oldest are folded into a fixed total.
public final class CostMeter: Sendable {
    /// How many message ids are kept apart before being folded.
    public static let maximumTrackedMessages = 4096

    private struct State {
        var messages: [String: (model: String?, usage: TokenUsage, cost: Double)] = [:]
        var order: [String] = []
        var folded = 0.0
        var total = 0.0
    }

    /// The cap in dollars, if any.
    public let cap: Double?
    /// The prices used.
    public let prices: PriceTable
    private let state = Mutex(State())

    public init(cap: Double?, prices: PriceTable) {
        self.cap = cap
        self.prices = prices
    }

    /// Records (or updates) the usage of one model call; returns the running total in dollars.
    @discardableResult
    public func record(messageID: String, model: String?, usage: TokenUsage) -> Double {
        let key = String(messageID.prefix(200))
        return state.withLock { s in
            if let earlier = s.messages[key] {
                let merged = earlier.usage.merged(with: usage)
                let chosenModel = earlier.model ?? model
                let cost = prices.price(of: chosenModel).cost(of: merged)
                s.total = Self.add(s.total - earlier.cost, cost)
                s.messages[key] = (chosenModel, merged, cost)
            } else {
                let cost = prices.price(of: model).cost(of: usage)
                s.messages[key] = (model, usage, cost)
                s.order.append(key)
                s.total = Self.add(s.total, cost)
                if s.order.count > Self.maximumTrackedMessages {
                    let oldest = s.order.removeFirst()
                    if let gone = s.messages.removeValue(forKey: oldest) { s.folded = Self.add(s.folded, gone.cost) }
                }
            }
            return s.total
        }
    }

    /// Dollars spent so far.
    public var spent: Double { state.withLock { $0.total } }

    /// Whether the spend reached the cap.
    public var exceeded: Bool {
        guard let cap else { return false }
        return spent >= cap
    }

    /// How many model calls were seen.
    public var calls: Int { state.withLock { $0.messages.count } }

    private static func add(_ a: Double, _ b: Double) -> Double {
        let sum = a + b
        return sum.isFinite ? max(0, sum) : .greatestFiniteMagnitude
    }
}

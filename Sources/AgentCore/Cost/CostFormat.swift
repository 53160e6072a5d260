import Foundation

/// How ca writes amounts of money: `$0.0042`, `$0.12`, `$12.50`.
public enum CostFormat {
    /// Dollars with 2 decimals, or 4 under ten cents (model calls are cheap one by one).
    public static func dollars(_ amount: Double) -> String {
        guard amount.isFinite else { return "$?" }
        if amount >= 1e9 { return "$" + String(format: "%.3g", amount) }
        return String(format: amount < 0.1 ? "$%.4f" : "$%.2f", amount)
    }
}

import Foundation

/// Arithmetic on numbers that come from outside (the agent's stream, a server's header, a
/// command line): it clamps instead of trapping, so a hostile value cannot crash ca.
public enum SaturatingNumber {
    /// A JSON number as an `Int`, clamped to `Int.min...Int.max`; `nil` for booleans, NaN and
    /// infinities.
    public static func int(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber, !JSONValue.isBoolean(number) else { return nil }
        return int(number)
    }

    /// An `NSNumber` as an `Int`, clamped; `nil` when it is NaN or infinite.
    public static func int(_ number: NSNumber) -> Int? {
        let double = number.doubleValue
        guard double.isFinite else { return nil }
        // 2^63 is exactly representable; anything at or beyond it does not fit.
        if double >= 9_223_372_036_854_775_808.0 { return .max }
        if double < -9_223_372_036_854_775_808.0 { return .min }
        return Int(number.int64Value)
    }

    /// A `Double` as an `Int`, clamped; `nil` when it is NaN or infinite.
    public static func int(_ double: Double) -> Int? {
        guard double.isFinite else { return nil }
        if double >= 9_223_372_036_854_775_808.0 { return .max }
        if double < -9_223_372_036_854_775_808.0 { return .min }
        return Int(double)
    }

    /// `a + b`, clamped.
    public static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    /// `a * b`, clamped.
    public static func multiply(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? ((a < 0) == (b < 0) ? .max : .min) : product
    }

    /// A count that cannot be negative: tokens, turns, sizes.
    public static func count(_ value: Any?) -> Int? {
        int(value).map { max(0, $0) }
    }

    /// A non-negative, finite amount (a cost); `nil` otherwise.
    public static func amount(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber, !JSONValue.isBoolean(number) else { return nil }
        let double = number.doubleValue
        return double.isFinite && double >= 0 ? double : nil
    }
}

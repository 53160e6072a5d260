import Foundation

/// Model prices by name prefix, for ca's running cost of a task (`--max-cost`).
///
/// The built-in prices are Anthropic's list prices, the ones the pinned Claude Code uses for its
/// own `total_cost_usd` (checked against the binary in `CostCapTests`). A model is priced by the
/// longest prefix of its name in the table (`claude-sonnet-4-5-20250929` by `claude-sonnet-4-5`);
/// a model the table does not know is priced as the most expensive model it knows, never as free.
/// `CA_PRICE_TABLE` names a JSON file whose entries replace or add to the built-in ones:
///
/// ```json
/// {"claude-sonnet-5": {"input": 2, "output": 10}, "my-proxy-model": {"input": 1, "output": 4, "cache_read": 0.1}}
/// ```
/// (dollars per million tokens; `cache_write`, `cache_write_1h` and `cache_read` are optional).
public struct PriceTable: Sendable, Hashable {
    /// Prefix → price.
    public private(set) var entries: [String: ModelPrice]

    /// The built-in table.
    public static let builtIn = PriceTable(entries: [
        "claude-opus-5": ModelPrice(input: 4, output: 20, cacheRead: 0.2),
        "claude-sonnet-5": ModelPrice(input: 2, output: 10, cacheRead: 0.1),
        "claude-haiku-5": ModelPrice(input: 0.1, output: 0.5),
        "claude-opus-4-5": ModelPrice(input: 5, output: 25),
        "claude-opus-4-1": ModelPrice(input: 15, output: 75),
        "claude-opus-4": ModelPrice(input: 15, output: 75),
        "claude-sonnet-4": ModelPrice(input: 3, output: 15),
        "claude-haiku-4-5": ModelPrice(input: 1, output: 5),
        "claude-3-7-sonnet": ModelPrice(input: 3, output: 15),
        "claude-3-5-sonnet": ModelPrice(input: 3, output: 15),
        "claude-3-5-haiku": ModelPrice(input: 0.8, output: 4),
        "claude-3-opus": ModelPrice(input: 15, output: 75),
        "claude-3-haiku": ModelPrice(input: 0.25, output: 1.25),
    ])

    public init(entries: [String: ModelPrice]) {
        self.entries = entries
    }

    /// The price of `model`: the entry with the longest matching prefix, else ``fallback``.
    public func price(of model: String?) -> ModelPrice {
        guard let model = model?.lowercased(), !model.isEmpty else { return fallback }
        var best: (length: Int, price: ModelPrice)?
        for (prefix, price) in entries where model.hasPrefix(prefix) && prefix.count > (best?.length ?? -1) {
            best = (prefix.count, price)
        }
        return best?.price ?? fallback
    }

    /// What an unknown model is charged: the highest price of every field in the table.
    public var fallback: ModelPrice {
        entries.values.reduce(ModelPrice(input: 0, output: 0, cacheWrite: 0, cacheWriteLong: 0, cacheRead: 0)) { $0.atLeast($1) }
    }

    /// Largest price accepted from a table file, dollars per million tokens.
    static let maximumPrice = 100_000.0

    /// The built-in table with the entries of the JSON file at `path` on top.
    public static func loading(overridesAt path: String) throws(TaskError) -> PriceTable {
        let data: Data
        do {
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            guard size <= 1 << 20 else { throw TaskError.invalidArgument("the price table CA_PRICE_TABLE=\(path) is larger than 1 MiB") }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as TaskError {
            throw error
        } catch {
            throw TaskError.invalidArgument("cannot read the price table CA_PRICE_TABLE=\(path): \(error.localizedDescription)")
        }
        return try builtIn.merging(json: data, source: "CA_PRICE_TABLE=\(path)")
    }

    /// This table with the entries of a JSON object `{"prefix": {"input": …, "output": …}, …}` on top.
    public func merging(json data: Data, source: String) throws(TaskError) -> PriceTable {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TaskError.invalidArgument("\(source): the price table must be a JSON object of model name prefixes")
        }
        var table = self
        for (name, value) in object {
            let prefix = name.lowercased()
            guard !prefix.isEmpty, prefix.count <= 200 else { throw TaskError.invalidArgument("\(source): a model prefix must be 1 to 200 characters") }
            guard let fields = value as? [String: Any] else {
                throw TaskError.invalidArgument("\(source): '\(name)' must be an object with \"input\" and \"output\" prices")
            }
            let known: Set<String> = ["input", "output", "cache_write", "cache_write_1h", "cache_read"]
            if let unknown = fields.keys.first(where: { !known.contains($0) }) {
                throw TaskError.invalidArgument("\(source): '\(name)' has an unknown field '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
            }
            func amount(_ key: String, required: Bool) throws(TaskError) -> Double? {
                guard let raw = fields[key] else {
                    if required { throw TaskError.invalidArgument("\(source): '\(name)' needs \"\(key)\" (dollars per million tokens)") }
                    return nil
                }
                guard let value = SaturatingNumber.amount(raw), value <= Self.maximumPrice else {
                    throw TaskError.invalidArgument("\(source): '\(name)'.\(key) must be a number from 0 to \(Int(Self.maximumPrice))")
                }
                return value
            }
            table.entries[prefix] = ModelPrice(input: try amount("input", required: true)!, output: try amount("output", required: true)!,
                                               cacheWrite: try amount("cache_write", required: false),
                                               cacheWriteLong: try amount("cache_write_1h", required: false),
                                               cacheRead: try amount("cache_read", required: false))
        }
        return table
    }

    /// The table for an environment: `CA_PRICE_TABLE` on top of the built-in one.
    public static func from(environment: [String: String]) throws(TaskError) -> PriceTable {
        guard let path = environment["CA_PRICE_TABLE"], !path.isEmpty else { return builtIn }
        return try loading(overridesAt: path)
    }
}

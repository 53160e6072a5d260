import Foundation

/// A JSON value for the fakes: scripted tool inputs and parsed request bodies.
///
/// Literals build values directly:
/// ```swift
/// let input: FakeJSON = ["file_path": "{{cwd}}/hello.txt", "content": "hi", "limit": 3]
/// ```
public enum FakeJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([FakeJSON])
    case object([String: FakeJSON])

    /// Errors of ``FakeJSON/parse(_:)``.
    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses JSON text (any top-level value).
    public static func parse(_ data: Data) throws -> FakeJSON {
        do {
            return try JSONDecoder().decode(FakeJSON.self, from: data)
        } catch {
            throw ParseError(description: "invalid JSON: \(error)")
        }
    }

    /// Parses JSON text (any top-level value).
    public static func parse(_ text: String) throws -> FakeJSON {
        try parse(Data(text.utf8))
    }

    // MARK: - Serialization

    /// Compact JSON text with sorted keys and unescaped slashes.
    public var jsonString: String {
        var out = ""
        Self.write(self, to: &out)
        return out
    }

    /// ``jsonString`` as UTF-8 data.
    public var jsonData: Data {
        Data(jsonString.utf8)
    }

    private static func write(_ value: FakeJSON, to out: inout String) {
        switch value {
        case .null:
            out += "null"
        case .bool(let flag):
            out += flag ? "true" : "false"
        case .number(let number):
            if number.isFinite, number == number.rounded(), abs(number) < 1e15 {
                out += String(Int64(number))
            } else if number.isFinite {
                out += String(number)
            } else {
                out += "null"
            }
        case .string(let string):
            writeString(string, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                writeString(key, to: &out)
                out += ":"
                write(members[key]!, to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    // MARK: - Access

    /// The member `key` of an object, or `nil`.
    public subscript(key: String) -> FakeJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The element at `index` of an array, or `nil` when out of range or not an array.
    public subscript(index: Int) -> FakeJSON? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The number, when this is a number.
    public var doubleValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }

    /// The number as an integer, when this is a whole number.
    public var intValue: Int? {
        if case .number(let number) = self, number == number.rounded(), abs(number) < 1e15 { return Int(number) }
        return nil
    }

    /// The flag, when this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [FakeJSON]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// The members, when this is an object.
    public var objectValue: [String: FakeJSON]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// Every string in this value, depth first; object members in sorted key order.
    public var allStrings: [String] {
        var result: [String] = []
        collectStrings(into: &result)
        return result
    }

    private func collectStrings(into result: inout [String]) {
        switch self {
        case .string(let string):
            result.append(string)
        case .array(let items):
            for item in items { item.collectStrings(into: &result) }
        case .object(let members):
            for key in members.keys.sorted() { members[key]!.collectStrings(into: &result) }
        case .null, .bool, .number:
            break
        }
    }

    /// A copy in which every string (not object keys) has `transform` applied.
    public func mapStrings(_ transform: (String) -> String) -> FakeJSON {
        switch self {
        case .string(let string):
            return .string(transform(string))
        case .array(let items):
            return .array(items.map { $0.mapStrings(transform) })
        case .object(let members):
            return .object(members.mapValues { $0.mapStrings(transform) })
        case .null, .bool, .number:
            return self
        }
    }
}

extension FakeJSON: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension FakeJSON: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension FakeJSON: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}

extension FakeJSON: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .number(value) }
}

extension FakeJSON: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension FakeJSON: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: FakeJSON...) { self = .array(elements) }
}

extension FakeJSON: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, FakeJSON)...) {
        var members: [String: FakeJSON] = [:]
        for (key, value) in elements { members[key] = value }
        self = .object(members)
    }
}

extension FakeJSON: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let items = try? container.decode([FakeJSON].self) {
            self = .array(items)
        } else {
            self = .object(try container.decode([String: FakeJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .number(let number): try container.encode(number)
        case .string(let string): try container.encode(string)
        case .array(let items): try container.encode(items)
        case .object(let members): try container.encode(members)
        }
    }
}

extension FakeJSON: CustomStringConvertible {
    public var description: String { jsonString }
}

import Foundation

/// Replaces known secret values with `[REDACTED]` in text that is about to be stored or shown.
///
/// Besides the exact value it finds the forms a secret is commonly copied in: JSON string
/// escapes (`\u0073`, `\/`) and percent-encoding (minimal or full, either hex case, or any mix
/// of these), base64 and base64url at each of the three byte offsets inside a longer stream,
/// and hex. It is a safety net, not a guarantee: a process that holds a secret can always
/// transform it in a way no redactor recognises.
///
/// Text without a secret costs one `memchr`-driven search per form (plus a decoding pass when
/// it holds `\u`, `\/` or `%HH`) and is never copied.
public struct SecretRedactor: Sendable {
    /// What every match is replaced with.
    public static let replacement = "[REDACTED]"
    private static let replacementBytes = Array(replacement.utf8)

    private let secrets: [String]
    /// Every form of every secret (see ``SecretForms``), longest first.
    private let needles: [[UInt8]]
    /// Length of the shortest form: shorter text cannot hold one (decoding never lengthens text).
    private let shortestNeedle: Int

    /// Whether token-shaped runs (``TokenShapes``: GitHub's `ghp_…`, `github_pat_…`) are
    /// replaced too, besides the given secrets.
    private let tokenShapes: Bool

    /// Secrets shorter than 6 characters are ignored (they would redact ordinary words).
    /// With `tokenShapes` (the default), credentials recognised by their shape alone
    /// (``TokenShapes``) are replaced as well.
    public init(secrets: [String], tokenShapes: Bool = true) {
        self.tokenShapes = tokenShapes
        self.secrets = Array(Set(secrets.filter { $0.count >= 6 })).sorted { $0.count > $1.count }
        var seen = Set<[UInt8]>()
        needles = self.secrets.flatMap { SecretForms.needles(for: Array($0.utf8)) }
            .filter { seen.insert($0).inserted }
            .sorted { $0.count > $1.count }
        shortestNeedle = min(needles.last?.count ?? Int.max, tokenShapes ? TokenShapes.minimumLength : Int.max)
    }

    /// Whether there is nothing to redact.
    public var isEmpty: Bool { secrets.isEmpty && !tokenShapes }

    // MARK: - Text

    /// The text with every secret replaced.
    public func redact(_ text: String) -> String {
        redactIfNeeded(text) ?? text
    }

    /// The text with every secret replaced, or `nil` when it holds none (the common case, which
    /// then costs no copy).
    public func redactIfNeeded(_ text: String) -> String? {
        guard text.utf8.count >= shortestNeedle else { return nil }
        var text = text
        return text.withUTF8 { bytes in redactedBytes(bytes).map { String(decoding: $0, as: UTF8.self) } }
    }

    /// The bytes with every secret replaced, or `nil` when they hold none.
    public func redactIfNeeded(_ data: Data) -> Data? {
        guard !isEmpty else { return nil }
        return data.withUnsafeBytes { raw in redactedBytes(raw.bindMemory(to: UInt8.self)).map { Data($0) } }
    }

    /// Whether `data` holds a secret in any of the forms this redactor recognises — for flagging
    /// saved files and patches.
    public func containsSecret(_ data: Data) -> Bool {
        guard !isEmpty else { return false }
        return data.withUnsafeBytes { raw in containsAnyForm(raw.bindMemory(to: UInt8.self), depth: 0) }
    }

    private func containsAnyForm(_ bytes: UnsafeBufferPointer<UInt8>, depth: Int) -> Bool {
        guard bytes.count >= shortestNeedle else { return false }
        if containsNeedle(in: bytes) { return true }
        guard depth < Self.decodingDepth, EscapeDecodedView.isNeeded(for: bytes) else { return false }
        return EscapeDecodedView(bytes, mapping: false).bytes.withUnsafeBufferPointer { containsAnyForm($0, depth: depth + 1) }
    }

    /// Whether `text` holds a secret in any recognised form.
    public func containsSecret(_ text: String) -> Bool {
        containsSecret(Data(text.utf8))
    }

    // MARK: - JSON

    /// JSON Lines (such as a Claude Code transcript) with every secret replaced, line by line.
    ///
    /// Each line is redacted as bytes; a line holding `\u` or `\/` escapes is also decoded and
    /// every string (and key) redacted after decoding, then encoded again. Lines that were valid
    /// JSON stay valid JSON. Line endings are kept.
    public func redactJSONLines(_ data: Data) -> Data {
        guard !isEmpty, !data.isEmpty else { return data }
        var output = Data()
        output.reserveCapacity(data.count)
        var start = data.startIndex
        while start < data.endIndex {
            let newline = data[start...].firstIndex(of: 0x0A)
            var end = newline ?? data.endIndex
            if end > start, data[end - 1] == 0x0D { end -= 1 }
            output.append(redactJSONLine(data[start..<end], parse: false).line)
            let next = newline.map { $0 + 1 } ?? data.endIndex
            output.append(data[end..<next])
            start = next
        }
        return output
    }

    /// One JSON line with every secret replaced, and — when `parse` is set or the redaction needed
    /// it — its decoded value (already redacted), so callers need not parse it again.
    ///
    /// The bytes are redacted first (this finds escaped forms too, keeping the line as written).
    /// When the line holds `\u` or `\/`, the decoded strings are checked as well, and if one
    /// still holds a secret they are redacted and the line is encoded again (keys sorted). If
    /// replacing bytes broke a line that was valid JSON, the line is rebuilt from its decoded form.
    func redactJSONLine(_ line: Data, parse: Bool) -> (line: Data, object: Any?) {
        guard !isEmpty else { return (line, parse ? Self.decode(line) : nil) }
        let (replaced, escaped) = line.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            return (redactedBytes(bytes).map { Data($0) }, EscapeDecodedView.hasJSONEscape(bytes))
        }
        var cleaned = replaced ?? line
        guard parse || replaced != nil || escaped else { return (cleaned, nil) }
        var object = Self.decode(cleaned)
        if object == nil, replaced != nil, let original = Self.decode(line) {
            // A match crossed the JSON structure: redact the decoded values instead.
            let redacted = redactJSONValue(original) ?? original
            if let encoded = Self.encode(redacted), !containsSecret(encoded) {
                return (encoded, redacted)
            }
        } else if escaped, let decoded = object, let redacted = redactJSONValue(decoded), let encoded = Self.encode(redacted) {
            object = redacted
            cleaned = encoded
        }
        return (cleaned, object)
    }

    /// A `JSONSerialization` value with every string and key redacted, or `nil` when none held a secret.
    func redactJSONValue(_ value: Any) -> Any? {
        switch value {
        case let string as String:
            return redactIfNeeded(string)
        case let object as [String: Any]:
            // Copied only once something changes.
            var result: [String: Any]?
            for (key, element) in object {
                let newKey = redactIfNeeded(key)
                let newElement = redactJSONValue(element)
                guard newKey != nil || newElement != nil else { continue }
                if result == nil { result = object }
                if newKey != nil { result?.removeValue(forKey: key) }
                result?[newKey ?? key] = newElement ?? element
            }
            return result
        case let array as [Any]:
            var result: [Any]?
            for (i, element) in array.enumerated() {
                guard let redacted = redactJSONValue(element) else { continue }
                if result == nil { result = array }
                result?[i] = redacted
            }
            return result
        default:
            return nil
        }
    }

    private static func decode(_ line: Data) -> Any? {
        try? JSONSerialization.jsonObject(with: line)
    }

    private static func encode(_ value: Any) -> Data? {
        guard JSONSerialization.isValidJSONObject(value) else { return nil }
        return try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    // MARK: - Bytes

    /// How many times escapes are decoded on top of each other (`\u0025` → `%`, then `%73` → `s`).
    private static let decodingDepth = 3

    /// The bytes with every match replaced, or `nil` when there is none.
    private func redactedBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard bytes.count >= shortestNeedle else { return nil }
        var found: [Range<Int>] = []
        collectMatches(in: bytes, depth: 0, into: &found) { $0 }
        guard !found.isEmpty else { return nil }
        found.sort { $0.lowerBound < $1.lowerBound }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var copied = 0
        var index = 0
        while index < found.count {
            var range = found[index]
            index += 1
            while index < found.count, found[index].lowerBound <= range.upperBound {
                range = range.lowerBound..<max(range.upperBound, found[index].upperBound)
                index += 1
            }
            output.append(contentsOf: bytes[copied..<range.lowerBound])
            output.append(contentsOf: Self.replacementBytes)
            copied = range.upperBound
        }
        output.append(contentsOf: bytes[copied...])
        return output
    }

    /// Appends the range (in the original bytes, through `map`) of every form found in `bytes`
    /// or in their decoded view.
    private func collectMatches(in bytes: UnsafeBufferPointer<UInt8>, depth: Int, into found: inout [Range<Int>],
                                map: (Range<Int>) -> Range<Int>) {
        for needle in needles {
            needle.withUnsafeBufferPointer { n in ByteSearch.forEachOccurrence(of: n, in: bytes) { found.append(map($0)) } }
        }
        if tokenShapes { TokenShapes.forEachMatch(in: bytes) { found.append(map($0)) } }
        guard depth < Self.decodingDepth, EscapeDecodedView.isNeeded(for: bytes) else { return }
        let view = EscapeDecodedView(bytes, mapping: true)
        view.bytes.withUnsafeBufferPointer { decoded in
            collectMatches(in: decoded, depth: depth + 1, into: &found) { map(view.originalRange(of: $0)) }
        }
    }

    private func containsNeedle(in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        needles.contains { needle in needle.withUnsafeBufferPointer { ByteSearch.firstOffset(of: $0, in: bytes) != nil } }
            || (tokenShapes && TokenShapes.containsMatch(in: bytes))
    }

    /// Byte-wise substring test (see ``ByteSearch``). Secrets are compared as UTF-8 bytes.
    static func contains(_ text: String, _ secret: String) -> Bool {
        var text = text, secret = secret
        return text.withUTF8 { haystack in secret.withUTF8 { ByteSearch.firstOffset(of: $0, in: haystack) != nil } }
    }
}

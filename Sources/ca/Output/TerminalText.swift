/// Makes untrusted text (the agent's words, tool inputs, file names, patches) safe to print.
///
/// A terminal acts on control characters: `ESC ] 52` writes the clipboard, `ESC ] 0` sets the
/// window title, a bare `\r` lets a line overwrite what came before it, and bidirectional
/// overrides reorder what the reader sees. Every such character is shown as a visible escape
/// (`\x1B`, `\r`, `\u{202E}`) instead; newline and tab pass through.
enum TerminalText {
    /// `text` with every control character (C0 but newline and tab, DEL, C1) and every
    /// bidirectional formatting character escaped.
    static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) { result.append(contentsOf: visible(scalar).unicodeScalars) } else { result.append(scalar) }
        }
        return String(result)
    }

    /// Like ``escape(_:)``, but keeps ca's own colour sequences (`ESC [ digits;… m`), which
    /// change nothing but colour. This is the last line of defence in ``Console/out(_:)``:
    /// untrusted parts were escaped before ca styled them.
    static func escapeKeepingStyles(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\u{1B}", let end = styleSequenceEnd(scalars, from: index) {
                result.append(contentsOf: scalars[index...end])
                index = end + 1
                continue
            }
            if needsEscape(scalar) { result.append(contentsOf: visible(scalar).unicodeScalars) } else { result.append(scalar) }
            index += 1
        }
        return String(result)
    }

    /// A JSON document with its C1 controls and bidirectional characters written as `\u` escapes:
    /// the same JSON value, but nothing a terminal acts on. (JSON's own encoder already escapes
    /// C0; these characters can only occur inside strings, where `\u` escapes are valid.)
    static func escapeJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { isC1($0) || isBidi($0) || $0.value == 0x7F }) else { return json }
        var result = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if isC1(scalar) || isBidi(scalar) || scalar.value == 0x7F {
                result.append(contentsOf: "\\u\(hex(scalar.value, width: 4))".unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    // MARK: Helpers

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x20 { return v != 0x0A && v != 0x09 }
        return v == 0x7F || isC1(scalar) || isBidi(scalar)
    }

    private static func isC1(_ scalar: Unicode.Scalar) -> Bool {
        (0x80...0x9F).contains(scalar.value)
    }

    /// Bidirectional embeddings, overrides and isolates (the "Trojan Source" characters).
    private static func isBidi(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value) || scalar.value == 0x200E || scalar.value == 0x200F
    }

    private static func visible(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x0D: return "\\r"
        case 0x08: return "\\b"
        case ..<0x80: return "\\x" + hex(scalar.value, width: 2)
        default: return "\\u{" + hex(scalar.value, width: 4) + "}"
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The index of the `m` ending an SGR sequence that starts at `start` (`ESC [ [0-9;]* m`).
    private static func styleSequenceEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        guard start + 2 < scalars.count, scalars[start + 1] == "[" else { return nil }
        var index = start + 2
        while index < scalars.count, index - start < 24 {
            let s = scalars[index]
            if s == "m" { return index }
            guard ("0"..."9").contains(s) || s == ";" else { return nil }
            index += 1
        }
        return nil
    }
}

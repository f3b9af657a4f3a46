/// A JSON document with object keys kept in the order they were written.
///
/// Foundation's `JSONEncoder` sorts or scrambles keys; reports must match gitleaks byte for byte,
/// so they are built as `JSONValue` trees and printed by `JSONValue.rendered(indent:)`.
enum JSONValue: Sendable {
    case string(String)
    case int(Int)
    /// A number already formatted as JSON (see `GoFloat`).
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// Prints like Go's `json.MarshalIndent(v, "", indent)`: one member per line, `[]`/`{}` when
    /// empty, `": "` after keys. No trailing newline.
    func rendered(indent: String) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: String, level: Int) {
        switch self {
        case .string(let s): out += JSONValue.quoted(s)
        case .int(let i): out += String(i)
        case .number(let n): out += n
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                out += "\n"
                out += String(repeating: indent, count: level + 1)
                item.write(into: &out, indent: indent, level: level + 1)
                if i < items.count - 1 { out += "," }
            }
            out += "\n" + String(repeating: indent, count: level) + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                out += "\n"
                out += String(repeating: indent, count: level + 1)
                out += JSONValue.quoted(key) + ": "
                value.write(into: &out, indent: indent, level: level + 1)
                if i < members.count - 1 { out += "," }
            }
            out += "\n" + String(repeating: indent, count: level) + "}"
        }
    }

    /// A JSON string literal escaped the way Go's `encoding/json` does by default: `\"`, `\\`,
    /// `\b \f \n \r \t`, other C0 controls as `\u00xx`, and the HTML-sensitive `< > &` plus
    /// U+2028/U+2029 as `\u` escapes. Swift strings are always valid Unicode, so malformed UTF-8
    /// has already become U+FFFD by the time it reaches here.
    static func quoted(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + hex4(scalar.value)
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + hex4(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }

    private static func hex4(_ v: UInt32) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int((v >> 12) & 0xF)], digits[Int((v >> 8) & 0xF)],
                       digits[Int((v >> 4) & 0xF)], digits[Int(v & 0xF)]])
    }
}

/// Formats a number the way Go's `encoding/json` prints a `float32` (gitleaks stores entropy as
/// `float32`): the shortest digits that round-trip, fixed notation, no trailing `.0`.
enum GoFloat {
    static func float32(_ value: Double) -> String {
        let f = Float(value)
        guard f.isFinite else { return "0" }
        if f == 0 { return "0" }
        let magnitude = abs(f)
        let (negative, digits, exponent) = decompose(f)
        if magnitude < 1e-6 || magnitude >= 1e21 {
            // Go: strconv 'e' format with at least two exponent digits trimmed to one ("e-7").
            var mantissa = String(digits.first ?? "0")
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let e = exponent - 1
            return (negative ? "-" : "") + mantissa + "e" + (e < 0 ? "-" : "+") + String(abs(e))
        }
        // Fixed notation: value = 0.digits * 10^exponent.
        var out = negative ? "-" : ""
        if exponent <= 0 {
            out += "0." + String(repeating: "0", count: -exponent) + digits
        } else if exponent >= digits.count {
            out += digits + String(repeating: "0", count: exponent - digits.count)
        } else {
            let cut = digits.index(digits.startIndex, offsetBy: exponent)
            out += digits[..<cut] + "." + digits[cut...]
        }
        return out
    }

    /// Splits Swift's shortest round-trip description into sign, significant digits and a decimal
    /// exponent such that value = 0.<digits> x 10^exponent.
    private static func decompose(_ f: Float) -> (Bool, String, Int) {
        var text = f.description
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        var exponentPart = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponentPart = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = parts.first.map(String.init) ?? "0"
        let fracPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + fracPart
        var exponent = intPart.count + exponentPart
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            exponent -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        return (negative, digits, exponent)
    }
}

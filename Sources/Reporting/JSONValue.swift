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
    ///
    /// Built as UTF-8 bytes (a report of 20k findings is ~18 MB: appending to a `String` piece by
    /// piece cost a directory scan most of a second after the scanning was done).
    func rendered(indent: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(4096)
        write(into: &out, indent: Array(indent.utf8), level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    func write(into out: inout [UInt8], indent: [UInt8], level: Int) {
        switch self {
        case .string(let s): JSONValue.appendQuoted(s, to: &out)
        case .int(let i): out += String(i).utf8
        case .number(let n): out += n.utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .null: out += "null".utf8
        case .array(let items):
            if items.isEmpty { out += "[]".utf8; return }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                JSONValue.newline(&out, indent: indent, level: level + 1)
                item.write(into: &out, indent: indent, level: level + 1)
                if i < items.count - 1 { out.append(UInt8(ascii: ",")) }
            }
            JSONValue.newline(&out, indent: indent, level: level)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty { out += "{}".utf8; return }
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                JSONValue.newline(&out, indent: indent, level: level + 1)
                JSONValue.appendQuoted(key, to: &out)
                out += ": ".utf8
                value.write(into: &out, indent: indent, level: level + 1)
                if i < members.count - 1 { out.append(UInt8(ascii: ",")) }
            }
            JSONValue.newline(&out, indent: indent, level: level)
            out.append(UInt8(ascii: "}"))
        }
    }

    static func newline(_ out: inout [UInt8], indent: [UInt8], level: Int) {
        out.append(UInt8(ascii: "\n"))
        for _ in 0..<level { out += indent }
    }

    /// A JSON string literal escaped the way Go's `encoding/json` does by default: `\"`, `\\`,
    /// `\b \f \n \r \t`, other C0 controls as `\u00xx`, and the HTML-sensitive `< > &` plus
    /// U+2028/U+2029 as `\u` escapes. Swift strings are always valid Unicode, so malformed UTF-8
    /// has already become U+FFFD by the time it reaches here.
    static func quoted(_ s: String) -> String {
        var out = [UInt8]()
        appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `quoted(s)` appended to UTF-8 bytes. Works on the string's (always valid) UTF-8: every
    /// escape is an ASCII byte, except U+2028/U+2029 (E2 80 A8/A9).
    static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var i = 0
            var runStart = 0
            func flush(_ end: Int) {
                if end > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<end])) }
            }
            while i < bytes.count {
                let b = bytes[i]
                var escape: StaticString?
                var code: UInt32?
                switch b {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case 0x0A: escape = "\\n"
                case 0x0D: escape = "\\r"
                case 0x09: escape = "\\t"
                case 0x08: escape = "\\b"
                case 0x0C: escape = "\\f"
                case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"): code = UInt32(b)
                case 0xE2 where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                    code = bytes[i + 2] == 0xA8 ? 0x2028 : 0x2029
                default:
                    if b < 0x20 { code = UInt32(b) }
                }
                if let escape {
                    flush(i)
                    escape.withUTF8Buffer { out.append(contentsOf: $0) }
                    i += 1
                    runStart = i
                } else if let code {
                    flush(i)
                    appendHex4(code, to: &out)
                    i += code > 0xFF ? 3 : 1
                    runStart = i
                } else {
                    i += 1
                }
            }
            flush(bytes.count)
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendHex4(_ v: UInt32, to out: inout [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), digits[Int((v >> 12) & 0xF)], digits[Int((v >> 8) & 0xF)],
                digits[Int((v >> 4) & 0xF)], digits[Int(v & 0xF)]]
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

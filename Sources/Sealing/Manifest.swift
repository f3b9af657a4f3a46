import Foundation
import Yams

/// A JSON/YAML value as Kubernetes manifests use it, with object keys kept in their order.
public indirect enum ManifestValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number, kept in its textual form so nothing is lost in a round trip.
    case number(String)
    case string(String)
    case array([ManifestValue])
    case object(ManifestObject)

    /// The object, if this is one.
    public var object: ManifestObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The string, if this is one.
    public var string: String? {
        if case .string(let string) = self { return string }
        return nil
    }
}

/// An ordered JSON/YAML mapping from string keys to values.
public struct ManifestObject: Sendable, Equatable {
    /// One key and its value.
    public struct Field: Sendable, Equatable {
        public var key: String
        public var value: ManifestValue
    }

    /// The fields, in order.
    public var fields: [Field]

    public init(_ fields: [Field] = []) { self.fields = fields }

    /// An object from key/value pairs, in the given order; nil values are left out.
    public init(ordered pairs: [(String, ManifestValue?)]) {
        fields = pairs.compactMap { key, value in value.map { Field(key: key, value: $0) } }
    }

    /// An object holding a string map, keys sorted (Go marshals maps sorted).
    public init(sortedStrings map: [String: String]) {
        fields = map.keys.sorted().map { Field(key: $0, value: .string(map[$0] ?? "")) }
    }

    public var isEmpty: Bool { fields.isEmpty }

    /// The value for `key`; setting nil removes the key, setting a new key appends it.
    public subscript(key: String) -> ManifestValue? {
        get { fields.first { $0.key == key }?.value }
        set {
            if let index = fields.firstIndex(where: { $0.key == key }) {
                if let newValue { fields[index].value = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append(Field(key: key, value: newValue))
            }
        }
    }
}

/// A problem with a manifest's text or shape, naming the file, the document and the cause.
public struct ManifestError: Error, CustomStringConvertible, Sendable, Equatable {
    /// File name, or `<stdin>`.
    public let source: String
    /// 1-based document number within the source, when known.
    public let document: Int?
    /// What is wrong.
    public let message: String

    public init(source: String, document: Int? = nil, _ message: String) {
        self.source = source
        self.document = document
        self.message = message
    }

    public var description: String {
        if let document { return "\(source): document \(document): \(message)" }
        return "\(source): \(message)"
    }
}

// MARK: - Reading

/// Reads YAML (multi-document) and JSON (one or several concatenated objects) manifest text.
public enum ManifestReader {
    /// Every non-empty document in `text`. JSON is recognised by a leading `{` or `[`.
    public static func documents(in text: String, source: String) throws -> [ManifestValue] {
        let trimmed = text.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{FEFF}" }
        if let first = trimmed.first, first == "{" || first == "[" {
            return try JSONParser.parseAll(String(trimmed), source: source)
        }
        return try yamlDocuments(text, source: source)
    }

    /// The JSON values in `bytes` (one or several concatenated), without going through a `String` first.
    public static func jsonDocuments(_ bytes: [UInt8], source: String) throws -> [ManifestValue] {
        try JSONParser.parseAll(bytes: bytes, source: source)
    }

    /// Parses YAML text into documents, dropping empty ones.
    public static func yamlDocuments(_ text: String, source: String) throws -> [ManifestValue] {
        var result: [ManifestValue] = []
        do {
            // Not compose_all: its sequence stops silently at a syntax error.
            let parser = try Parser(yaml: text)
            var index = 0
            while let node = try parser.nextRoot() {
                index += 1
                let value = try convert(node, source: source, document: index)
                if value != .null { result.append(value) }
            }
        } catch let error as ManifestError {
            throw error
        } catch let error as YamlError {
            throw ManifestError(source: source, "invalid YAML: \(describe(error))")
        }
        return result
    }

    /// Position and problem only: Yams' own description quotes the offending line, which may hold a secret.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            return "line \(mark.line), column \(mark.column): \(problem)" + (context.map { " (\($0.text))" } ?? "")
        case let .reader(problem, offset, _, _):
            return "\(problem)" + (offset.map { " at byte \($0)" } ?? "")
        case let .duplicatedKeysInMapping(duplicates, context):
            return "duplicated key(s) \(duplicates.sorted().joined(separator: ", ")) near line \(context.mark.line)"
        default:
            return "\(error)"
        }
    }

    private static func convert(_ node: Node, source: String, document: Int) throws -> ManifestValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain && scalar.style != .any { return .string(scalar.string) }
            if !YAMLScalars.mayResolveToNonString(scalar.string) { return .string(scalar.string) }
            switch Resolver.default.resolveTag(of: node) {
            case .null: return .null
            case .bool: return node.bool.map(ManifestValue.bool) ?? .string(scalar.string)
            case .int, .float: return .number(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            return .array(try sequence.map { try convert($0, source: source, document: document) })
        case .mapping(let mapping):
            var object = ManifestObject()
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ManifestError(source: source, document: document, "mapping keys must be strings")
                }
                object.fields.append(.init(key: keyScalar.string, value: try convert(value, source: source, document: document)))
            }
            return .object(object)
        case .alias:
            throw ManifestError(source: source, document: document, "YAML aliases are not supported in manifests")
        }
    }
}

/// A small JSON parser that keeps key order and number text, and reads concatenated values.
enum JSONParser {
    static func parseAll(_ text: String, source: String) throws -> [ManifestValue] {
        try parseAll(bytes: Array(text.utf8), source: source)
    }

    static func parseAll(bytes: [UInt8], source: String) throws -> [ManifestValue] {
        var parser = Parser(bytes: bytes, source: source)
        var values: [ManifestValue] = []
        parser.skipWhitespace()
        while !parser.atEnd {
            values.append(try parser.value(depth: 0))
            parser.skipWhitespace()
        }
        return values.filter { $0 != .null }
    }

    /// A Kubernetes object in JSON text and the UTF-8 byte range it spans.
    struct ObjectSpan {
        var value: ManifestValue
        var range: Range<Int>
    }

    /// The Kubernetes objects of JSON text with their byte ranges, in order: each top-level object,
    /// the elements of a top-level array, and the `items` of a `kind: List` (so a Secret among them
    /// can be replaced without touching the bytes around it).
    static func objectSpans(_ text: String, source: String) throws -> [ObjectSpan] {
        var parser = Parser(bytes: Array(text.utf8), source: source)
        parser.recordsSpans = true
        var result: [ObjectSpan] = []
        if parser.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.position = 3 }
        parser.skipWhitespace()
        while !parser.atEnd {
            parser.spans = []
            let start = parser.position
            let value = try parser.value(depth: 0)
            let range = start ..< parser.position
            let spans = parser.spans.sorted { $0.range.lowerBound < $1.range.lowerBound }
            func children(at depth: Int, within outer: Range<Int>) -> [Range<Int>] {
                spans.filter { $0.depth == depth && outer.contains($0.range.lowerBound) }.map(\.range)
            }
            switch value {
            case .array(let items):
                let ranges = children(at: 1, within: range)
                guard ranges.count == items.count else { throw parser.fail("cannot locate the array's elements") }
                result += zip(items, ranges).map { ObjectSpan(value: $0, range: $1) }
            case .object(let object) where (object["kind"]?.string ?? "").hasSuffix("List"):
                guard case .array(let items)? = object["items"],
                      let index = object.fields.firstIndex(where: { $0.key == "items" }) else {
                    result.append(ObjectSpan(value: value, range: range))
                    break
                }
                let fieldRanges = children(at: 1, within: range)
                guard fieldRanges.count == object.fields.count else { throw parser.fail("duplicate keys in a List") }
                let ranges = children(at: 2, within: fieldRanges[index])
                guard ranges.count == items.count else { throw parser.fail("cannot locate the List's items") }
                result += zip(items, ranges).map { ObjectSpan(value: $0, range: $1) }
            case .null:
                break
            default:
                result.append(ObjectSpan(value: value, range: range))
            }
            parser.skipWhitespace()
        }
        return result
    }

    private struct Parser {
        let bytes: [UInt8]
        let source: String
        var position = 0
        /// With `recordsSpans`: the byte range of every value nested at most two levels deep.
        var recordsSpans = false
        var spans: [(depth: Int, range: Range<Int>)] = []

        init(bytes: [UInt8], source: String) {
            self.bytes = bytes
            self.source = source
        }

        var atEnd: Bool { position >= bytes.count }

        func fail(_ message: String) -> ManifestError {
            ManifestError(source: source, "invalid JSON at byte \(position): \(message)")
        }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func expect(_ literal: String) throws {
            let expected = Array(literal.utf8)
            guard position + expected.count <= bytes.count, Array(bytes[position ..< position + expected.count]) == expected else {
                throw fail("expected \(literal)")
            }
            position += expected.count
        }

        mutating func value(depth: Int) throws -> ManifestValue {
            guard depth < 512 else { throw fail("nesting too deep") }
            skipWhitespace()
            guard position < bytes.count else { throw fail("unexpected end of input") }
            guard recordsSpans && depth <= 2 else { return try parseValue(depth: depth) }
            let start = position
            let result = try parseValue(depth: depth)
            spans.append((depth, start ..< position))
            return result
        }

        private mutating func parseValue(depth: Int) throws -> ManifestValue {
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var object = ManifestObject()
                skipWhitespace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(object) }
                while true {
                    skipWhitespace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                    let key = try string()
                    skipWhitespace()
                    try expect(":")
                    let item = try value(depth: depth + 1)
                    object[key] = item
                    skipWhitespace()
                    guard position < bytes.count else { throw fail("unterminated object") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(object) }
                    throw fail("expected , or }")
                }
            case UInt8(ascii: "["):
                position += 1
                var items: [ManifestValue] = []
                skipWhitespace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipWhitespace()
                    guard position < bytes.count else { throw fail("unterminated array") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
                    throw fail("expected , or ]")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try expect("true"); return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false"); return .bool(false)
            case UInt8(ascii: "n"):
                try expect("null"); return .null
            default:
                let start = position
                while position < bytes.count, "+-0123456789.eE".utf8.contains(bytes[position]) { position += 1 }
                guard position > start else { throw fail("unexpected character") }
                return .number(String(decoding: bytes[start ..< position], as: UTF8.self))
            }
        }

        mutating func string() throws -> String {
            position += 1 // opening quote
            // Fast path: no escape before the closing quote (base64 values, names), one copy.
            var end = position
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                defer { position = end + 1 }
                return String(decoding: bytes[position ..< end], as: UTF8.self)
            }
            var out: [UInt8] = Array(bytes[position ..< min(end, bytes.count)])
            position = end
            while true {
                guard position < bytes.count else { throw fail("unterminated string") }
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: "\"") { break }
                guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
                guard position < bytes.count else { throw fail("unterminated escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800 ..< 0xDC00).contains(scalar), position + 1 < bytes.count,
                       bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                        position += 2
                        let low = try hex4()
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(character)).utf8))
                default: throw fail("invalid escape")
                }
            }
            return String(decoding: out, as: UTF8.self)
        }

        mutating func hex4() throws -> UInt32 {
            guard position + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[position ..< position + 4], as: UTF8.self), radix: 16) else {
                throw fail("invalid \\u escape")
            }
            position += 4
            return value
        }
    }
}

// MARK: - Writing

/// Output format of manifests.
public enum ManifestFormat: String, Sendable, CaseIterable {
    case yaml
    case json
}

/// Writes manifests the way kubeseal does: YAML with sorted keys and `---` before every document;
/// JSON pretty-printed with a 2-space indent in the given key order, Go's escaping, and a newline.
public enum ManifestWriter {
    /// One document in `format`.
    public static func render(_ value: ManifestValue, as format: ManifestFormat) throws -> String {
        switch format {
        case .yaml: return try yaml(value)
        case .json: return json(value) + "\n"
        }
    }

    /// Several documents, one after another.
    public static func render(_ values: [ManifestValue], as format: ManifestFormat) throws -> String {
        try values.map { try render($0, as: format) }.joined()
    }

    /// YAML text for one document, preceded by `---`.
    public static func yaml(_ value: ManifestValue) throws -> String {
        let body = try Yams.serialize(node: node(value), width: -1, allowUnicode: true)
        return "---\n" + body
    }

    static func node(_ value: ManifestValue) -> Node {
        switch value {
        case .null: return Node("null", .init(.null), .plain)
        case .bool(let flag): return Node(flag ? "true" : "false", .init(.bool), .plain)
        case .number(let text): return Node(text, .init(.int), .plain)
        case .string(let text):
            if text.utf8.contains(0x0A) { return Node(text, .init(.str), .literal) }
            if YAMLScalars.mayResolveToNonString(text), Resolver.default.resolveTag(of: Node(text)) != .str {
                return Node(text, .init(.str), .doubleQuoted)
            }
            return Node(text, .init(.str), .any)
        case .array(let items):
            return .sequence(.init(items.map(node)))
        case .object(let object):
            // Sorted here rather than with the emitter's sortKeys, whose per-key lookup is quadratic.
            let sorted = object.fields.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return .mapping(.init(sorted.map { (Node($0.key, .init(.str), keyStyle($0.key)), node($0.value)) }))
        }
    }

    private static func keyStyle(_ key: String) -> Node.Scalar.Style {
        guard YAMLScalars.mayResolveToNonString(key) else { return .any }
        return Resolver.default.resolveTag(of: Node(key)) == .str ? .any : .doubleQuoted
    }

    /// Pretty JSON with a 2-space indent, as Go's `json.MarshalIndent` + `json.Indent` write it.
    public static func json(_ value: ManifestValue) -> String {
        var out = ""
        writeJSON(value, indent: 0, into: &out)
        return out
    }

    /// Compact JSON (for HTTP request bodies).
    public static func compactJSON(_ value: ManifestValue) -> String {
        var out = ""
        writeJSON(value, indent: nil, into: &out)
        return out
    }

    private static func writeJSON(_ value: ManifestValue, indent: Int?, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let text): out += text
        case .string(let text): appendQuoted(text, to: &out)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                newline(indent.map { $0 + 1 }, into: &out)
                writeJSON(item, indent: indent.map { $0 + 1 }, into: &out)
            }
            newline(indent, into: &out)
            out += "]"
        case .object(let object):
            guard !object.isEmpty else { out += "{}"; return }
            out += "{"
            for (index, field) in object.fields.enumerated() {
                if index > 0 { out += "," }
                newline(indent.map { $0 + 1 }, into: &out)
                appendQuoted(field.key, to: &out)
                out += indent == nil ? ":" : ": "
                writeJSON(field.value, indent: indent.map { $0 + 1 }, into: &out)
            }
            newline(indent, into: &out)
            out += "}"
        }
    }

    private static func newline(_ indent: Int?, into out: inout String) {
        guard let indent else { return }
        out += "\n" + String(repeating: "  ", count: indent)
    }

    private static func appendQuoted(_ text: String, to out: inout String) {
        if needsEscaping(text) {
            out += quoteJSON(text)
        } else {
            out += "\""
            out += text
            out += "\""
        }
    }

    /// Whether `text` holds a byte JSON (with Go's escaping) must escape: controls, `"`, `\\`, `<`, `>`, `&`, or
    /// the lead byte of U+2028/U+2029 (and of other U+2xxx characters, which then take the slow path).
    private static func needsEscaping(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0xE2 }
    }

    /// A JSON string literal with Go's escaping (`<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes).
    static func quoteJSON(_ text: String) -> String {
        // Fast path: nothing to escape (base64 values, names, timestamps), so the text goes in whole.
        if !needsEscaping(text) { return "\"" + text + "\"" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += String(format: "\\u%04x", scalar.value)
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// A cheap pre-check before Yams' regex-based tag resolution, which dominates the cost of large manifests.
enum YAMLScalars {
    private static let numericCharacters: Set<UInt8> = Set("0123456789abcdefABCDEFoOxX_.+-:eE".utf8)

    /// False only when `text` certainly resolves to a string as a plain scalar: it is longer than any
    /// null, bool or timestamp spelling, and has a character no int or float can contain.
    static func mayResolveToNonString(_ text: String) -> Bool {
        let utf8 = text.utf8
        if utf8.count <= 40 { return true }
        return utf8.allSatisfy { numericCharacters.contains($0) }
    }
}

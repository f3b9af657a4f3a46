import Foundation

/// A template outside the supported subset, or one that fails while rendering. Never quotes item values.
public struct TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The subset of Go `text/template` + sprig that SealedSecret `spec.template.data` values use:
/// `{{ .key }}`, `{{ index . "a-b" }}`, pipelines and calls of `toJson`, `b64enc`, `b64dec`, `quote`,
/// `trim`, `upper`, `lower`, string literals, parentheses, `{{-`/`-}}` trimming and comments.
/// Anything else (`if`, `range`, variables, other functions) is rejected with an error rather than
/// rendered differently from the controller. A missing item is an error too (Go would print `<no value>`).
public struct GoTemplate: Sendable {
    private enum Piece: Sendable {
        case text([UInt8])
        case action(Pipeline)
    }

    private indirect enum Term: Sendable {
        case dot
        case field(String)
        case literal(String)
        case pipeline(Pipeline)
    }

    private struct Command: Sendable {
        var function: String?
        var arguments: [Term]
    }

    private struct Pipeline: Sendable {
        var commands: [Command]
    }

    private enum Value {
        case items([String: [UInt8]])
        case bytes([UInt8])
    }

    private let pieces: [Piece]

    /// Parses `source`; throws `TemplateError` for syntax outside the subset.
    public init(_ source: String) throws {
        pieces = try GoTemplate.parse(Array(source.utf8))
    }

    /// Renders over the decrypted items.
    public func render(_ items: [String: [UInt8]]) throws -> [UInt8] {
        var out: [UInt8] = []
        for piece in pieces {
            switch piece {
            case .text(let bytes): out += bytes
            case .action(let pipeline):
                switch try evaluate(pipeline, items: items) {
                case .bytes(let bytes): out += bytes
                case .items: throw TemplateError("printing the whole item map is not supported; use .name or index . \"name\"")
                }
            }
        }
        return out
    }

    // MARK: Parsing

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    private static func parse(_ bytes: [UInt8]) throws -> [Piece] {
        var pieces: [Piece] = []
        var position = 0
        var trimNextText = false
        let open: [UInt8] = Array("{{".utf8), close: [UInt8] = Array("}}".utf8)
        func find(_ needle: [UInt8], from start: Int) -> Int? {
            guard needle.count <= bytes.count else { return nil }
            var index = start
            while index + needle.count <= bytes.count {
                if bytes[index] == needle[0] && Array(bytes[index ..< index + needle.count]) == needle { return index }
                index += 1
            }
            return nil
        }
        while position < bytes.count {
            guard let start = find(open, from: position) else {
                var text = Array(bytes[position...])
                if trimNextText { text = Array(text.drop(while: isSpace)) }
                if !text.isEmpty { pieces.append(.text(text)) }
                break
            }
            var text = Array(bytes[position ..< start])
            if trimNextText { text = Array(text.drop(while: isSpace)) }
            var innerStart = start + 2
            if innerStart + 1 < bytes.count, bytes[innerStart] == UInt8(ascii: "-"), isSpace(bytes[innerStart + 1]) {
                while let last = text.last, isSpace(last) { text.removeLast() }
                innerStart += 2
            }
            if !text.isEmpty { pieces.append(.text(text)) }
            guard let end = find(close, from: innerStart) else { throw TemplateError("unclosed action: missing }}") }
            var innerEnd = end
            trimNextText = false
            if innerEnd - 2 >= innerStart, bytes[innerEnd - 1] == UInt8(ascii: "-"), isSpace(bytes[innerEnd - 2]) {
                innerEnd -= 2
                trimNextText = true
            }
            let inner = innerStart <= innerEnd ? Array(bytes[innerStart ..< innerEnd]) : []
            let trimmedInner = inner.drop(while: isSpace)
            if trimmedInner.starts(with: Array("/*".utf8)) {
                let body = Array(trimmedInner.reversed().drop(while: isSpace).reversed())
                guard body.count >= 4, body.suffix(2) == Array("*/".utf8)[...] else { throw TemplateError("unclosed comment") }
            } else {
                var tokens = try tokenize(inner)
                let pipeline = try parsePipeline(&tokens, nested: false)
                pieces.append(.action(pipeline))
            }
            position = end + 2
        }
        return pieces
    }

    private enum Token: Equatable {
        case dot
        case field(String)
        case identifier(String)
        case string(String)
        case pipe
        case open
        case close
    }

    private static func tokenize(_ bytes: [UInt8]) throws -> [Token] {
        var tokens: [Token] = []
        var index = 0
        func isIdentifier(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte >= 0x80
        }
        while index < bytes.count {
            let byte = bytes[index]
            if isSpace(byte) { index += 1; continue }
            switch byte {
            case UInt8(ascii: "|"): tokens.append(.pipe); index += 1
            case UInt8(ascii: "("): tokens.append(.open); index += 1
            case UInt8(ascii: ")"): tokens.append(.close); index += 1
            case UInt8(ascii: "."):
                index += 1
                let start = index
                while index < bytes.count, isIdentifier(bytes[index]) { index += 1 }
                if start == index {
                    tokens.append(.dot)
                } else {
                    tokens.append(.field(String(decoding: bytes[start ..< index], as: UTF8.self)))
                    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                        throw TemplateError("nested field access (.a.b) is not supported: items are plain strings")
                    }
                }
            case UInt8(ascii: "\""):
                index += 1
                var out: [UInt8] = []
                var closed = false
                while index < bytes.count {
                    let current = bytes[index]
                    index += 1
                    if current == UInt8(ascii: "\"") { closed = true; break }
                    if current == UInt8(ascii: "\\") {
                        guard index < bytes.count else { break }
                        let escape = bytes[index]
                        index += 1
                        switch escape {
                        case UInt8(ascii: "n"): out.append(0x0A)
                        case UInt8(ascii: "t"): out.append(0x09)
                        case UInt8(ascii: "r"): out.append(0x0D)
                        case UInt8(ascii: "\\"): out.append(0x5C)
                        case UInt8(ascii: "\""): out.append(0x22)
                        default: throw TemplateError("unsupported escape \\\(Character(Unicode.Scalar(escape))) in a string literal")
                        }
                    } else {
                        out.append(current)
                    }
                }
                guard closed else { throw TemplateError("unterminated string literal") }
                tokens.append(.string(String(decoding: out, as: UTF8.self)))
            case UInt8(ascii: "`"):
                index += 1
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "`") { index += 1 }
                guard index < bytes.count else { throw TemplateError("unterminated raw string literal") }
                tokens.append(.string(String(decoding: bytes[start ..< index], as: UTF8.self)))
                index += 1
            case UInt8(ascii: "$"):
                throw TemplateError("template variables ($) are not supported")
            default:
                guard isIdentifier(byte) else {
                    throw TemplateError("unsupported character '\(Character(Unicode.Scalar(byte)))' in an action")
                }
                let start = index
                while index < bytes.count, isIdentifier(bytes[index]) { index += 1 }
                tokens.append(.identifier(String(decoding: bytes[start ..< index], as: UTF8.self)))
            }
        }
        return tokens
    }

    private static let functions: Set<String> = ["index", "toJson", "b64enc", "b64dec", "quote", "trim", "upper", "lower"]
    private static let keywords: Set<String> = ["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue", "nil", "true", "false"]

    private static func parsePipeline(_ tokens: inout [Token], nested: Bool) throws -> Pipeline {
        var commands: [Command] = []
        var current = Command(function: nil, arguments: [])
        func finish() throws {
            guard current.function != nil || !current.arguments.isEmpty else { throw TemplateError("empty command in pipeline") }
            if current.function == nil && current.arguments.count > 1 {
                throw TemplateError("a value can't take arguments; did you mean a function call?")
            }
            if !commands.isEmpty && current.function == nil {
                throw TemplateError("only a function can follow | in a pipeline")
            }
            commands.append(current)
            current = Command(function: nil, arguments: [])
        }
        while !tokens.isEmpty {
            let token = tokens.removeFirst()
            switch token {
            case .pipe: try finish()
            case .close:
                guard nested else { throw TemplateError("unexpected )") }
                try finish()
                return Pipeline(commands: commands)
            case .open:
                current.arguments.append(.pipeline(try parsePipeline(&tokens, nested: true)))
            case .dot: current.arguments.append(.dot)
            case .field(let name): current.arguments.append(.field(name))
            case .string(let text): current.arguments.append(.literal(text))
            case .identifier(let name):
                if keywords.contains(name) { throw TemplateError("'\(name)' is not supported in SealedSecret templates by sealant") }
                guard functions.contains(name) else { throw TemplateError("function \"\(name)\" is not supported (supported: \(functions.sorted().joined(separator: ", ")))") }
                guard current.function == nil && current.arguments.isEmpty else {
                    throw TemplateError("function \(name) used as an argument; wrap it in parentheses")
                }
                current.function = name
            }
        }
        if nested { throw TemplateError("missing )") }
        try finish()
        return Pipeline(commands: commands)
    }

    // MARK: Evaluation

    private func evaluate(_ pipeline: Pipeline, items: [String: [UInt8]]) throws -> Value {
        var previous: Value?
        for command in pipeline.commands {
            var arguments = try command.arguments.map { try evaluate($0, items: items) }
            if let previous { arguments.append(previous) }
            if let function = command.function {
                previous = try call(function, arguments)
            } else {
                previous = arguments.first
            }
        }
        guard let previous else { throw TemplateError("empty action") }
        return previous
    }

    private func evaluate(_ term: Term, items: [String: [UInt8]]) throws -> Value {
        switch term {
        case .dot: return .items(items)
        case .field(let name):
            guard let value = items[name] else { throw TemplateError("no item named \"\(name)\"") }
            return .bytes(value)
        case .literal(let text): return .bytes(Array(text.utf8))
        case .pipeline(let pipeline): return try evaluate(pipeline, items: items)
        }
    }

    private func call(_ function: String, _ arguments: [Value]) throws -> Value {
        func single() throws -> [UInt8] {
            guard arguments.count == 1 else { throw TemplateError("\(function) takes 1 argument, got \(arguments.count)") }
            guard case .bytes(let bytes) = arguments[0] else { throw TemplateError("\(function) needs a string, not the item map") }
            return bytes
        }
        switch function {
        case "index":
            guard arguments.count == 2, case .items(let map) = arguments[0], case .bytes(let key) = arguments[1] else {
                throw TemplateError("index is supported as: index . \"item-name\"")
            }
            let name = String(decoding: key, as: UTF8.self)
            guard let value = map[name] else { throw TemplateError("no item named \"\(name)\"") }
            return .bytes(value)
        case "toJson":
            guard arguments.count == 1 else { throw TemplateError("toJson takes 1 argument, got \(arguments.count)") }
            switch arguments[0] {
            case .bytes(let bytes):
                return .bytes(Array(ManifestWriter.quoteJSON(String(decoding: bytes, as: UTF8.self)).utf8))
            case .items(let map):
                let object = ManifestObject(sortedStrings: map.mapValues { String(decoding: $0, as: UTF8.self) })
                return .bytes(Array(ManifestWriter.compactJSON(.object(object)).utf8))
            }
        case "b64enc":
            return .bytes(Array(Data(try single()).base64EncodedString().utf8))
        case "b64dec":
            let text = String(decoding: try single(), as: UTF8.self)
            guard let data = Data(base64Encoded: text) else { throw TemplateError("b64dec: the value is not valid base64") }
            return .bytes([UInt8](data))
        case "quote":
            var parts: [String] = []
            for argument in arguments {
                guard case .bytes(let bytes) = argument else { throw TemplateError("quote needs strings, not the item map") }
                parts.append(GoTemplate.goQuote(bytes))
            }
            return .bytes(Array(parts.joined(separator: " ").utf8))
        case "trim":
            return .bytes(Array(String(decoding: try single(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8))
        case "upper":
            return .bytes(Array(String(decoding: try single(), as: UTF8.self).uppercased().utf8))
        case "lower":
            return .bytes(Array(String(decoding: try single(), as: UTF8.self).lowercased().utf8))
        default:
            throw TemplateError("function \"\(function)\" is not supported")
        }
    }

    /// Go's `strconv.Quote` (what `%q` prints).
    static func goQuote(_ bytes: [UInt8]) -> String {
        var out = "\""
        var remaining = bytes[...]
        while !remaining.isEmpty {
            var decoder = UTF8()
            var single = remaining.makeIterator()
            switch decoder.decode(&single) {
            case .scalarValue(let scalar):
                let length = String(scalar).utf8.count
                remaining = remaining.dropFirst(length)
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\u{07}": out += "\\a"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{0B}": out += "\\v"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        out += String(format: "\\x%02x", scalar.value)
                    } else if (0x80 ..< 0xA0).contains(scalar.value) || scalar.value == 0xAD {
                        out += String(format: "\\u%04x", scalar.value)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            case .emptyInput:
                remaining = []
            case .error:
                if let first = remaining.first { out += String(format: "\\x%02x", first) }
                remaining = remaining.dropFirst()
            }
        }
        return out + "\""
    }
}

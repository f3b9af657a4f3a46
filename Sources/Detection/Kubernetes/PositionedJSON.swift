import Foundation

/// A JSON reader that keeps the byte range of every key and value, so a finding in a JSON manifest
/// can point at its real line and column (Foundation's JSONSerialization drops positions). It reads
/// one or several concatenated top-level values and gives up (nil) on anything that is not JSON.
struct PositionedJSON {
    /// One parsed value and the bytes it spans (for a string: including its quotes).
    struct Node {
        indirect enum Value {
            /// `inner` is the raw text between the quotes (escapes not decoded).
            case string(inner: Range<Int>)
            case scalar
            case array([Node])
            case object([Member])
        }
        var value: Value
        var range: Range<Int>
    }

    /// `"key": value` in an object; `keyRange` includes the key's quotes.
    struct Member {
        var key: String
        var keyRange: Range<Int>
        var node: Node
    }

    /// The top-level values of `bytes`, or nil when the text is not (concatenated) JSON.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> [Node]? {
        var reader = Reader(bytes: bytes)
        var nodes = [Node]()
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { reader.position = 3 }
        reader.skipWhitespace()
        while reader.position < bytes.count {
            guard let node = reader.value(depth: 0) else { return nil }
            nodes.append(node)
            reader.skipWhitespace()
        }
        return nodes
    }

    /// The decoded text of a string's raw inner bytes (escapes resolved).
    static func text(_ bytes: UnsafeRawBufferPointer, _ inner: Range<Int>) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[inner])
        guard raw.contains(0x5C) else { return String(decoding: raw, as: UTF8.self) }
        let quoted = Data([0x22]) + Data(raw) + Data([0x22])
        return (try? JSONSerialization.jsonObject(with: quoted, options: .fragmentsAllowed) as? String) ?? String(decoding: raw, as: UTF8.self)
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        mutating func skipWhitespace() {
            while position < bytes.count {
                let b = bytes[position]
                guard b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D else { return }
                position += 1
            }
        }

        mutating func value(depth: Int) -> Node? {
            guard depth < 256 else { return nil }
            skipWhitespace()
            guard position < bytes.count else { return nil }
            let start = position
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var members = [Member]()
                skipWhitespace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return Node(value: .object(members), range: start..<position)
                }
                while true {
                    skipWhitespace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: "\""), let inner = string() else { return nil }
                    let keyRange = (inner.lowerBound - 1)..<(inner.upperBound + 1)
                    skipWhitespace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
                    position += 1
                    guard let node = value(depth: depth + 1) else { return nil }
                    members.append(Member(key: PositionedJSON.text(bytes, inner), keyRange: keyRange, node: node))
                    skipWhitespace()
                    guard position < bytes.count else { return nil }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    if bytes[position] == UInt8(ascii: "}") {
                        position += 1
                        return Node(value: .object(members), range: start..<position)
                    }
                    return nil
                }
            case UInt8(ascii: "["):
                position += 1
                var items = [Node]()
                skipWhitespace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return Node(value: .array(items), range: start..<position)
                }
                while true {
                    guard let node = value(depth: depth + 1) else { return nil }
                    items.append(node)
                    skipWhitespace()
                    guard position < bytes.count else { return nil }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    if bytes[position] == UInt8(ascii: "]") {
                        position += 1
                        return Node(value: .array(items), range: start..<position)
                    }
                    return nil
                }
            case UInt8(ascii: "\""):
                guard let inner = string() else { return nil }
                return Node(value: .string(inner: inner), range: start..<position)
            default:
                // true, false, null, numbers: any run of literal characters.
                while position < bytes.count {
                    let b = bytes[position]
                    guard (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) || b == 0x2B || b == 0x2D || b == 0x2E || b == 0x45 else { break }
                    position += 1
                }
                guard position > start else { return nil }
                return Node(value: .scalar, range: start..<position)
            }
        }

        /// Reads a string at the opening quote; returns the range between the quotes.
        mutating func string() -> Range<Int>? {
            position += 1
            let start = position
            while position < bytes.count {
                let b = bytes[position]
                if b == 0x5C { position += 2; continue }
                if b == 0x22 {
                    position += 1
                    return start..<(position - 1)
                }
                if b == 0x0A { return nil }
                position += 1
            }
            return nil
        }
    }
}

extension PositionedJSON.Node {
    /// The member `key` of an object node.
    func member(_ key: String) -> PositionedJSON.Member? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.key == key }
    }

    /// The decoded string value of member `key`.
    func string(_ key: String, in bytes: UnsafeRawBufferPointer) -> String? {
        guard let node = member(key)?.node, case .string(let inner) = node.value else { return nil }
        return PositionedJSON.text(bytes, inner)
    }

    /// The Kubernetes objects this node holds: itself, the items of a `kind: List`, or the elements of an array.
    func objects(in bytes: UnsafeRawBufferPointer) -> [PositionedJSON.Node] {
        switch value {
        case .array(let items):
            return items.flatMap { $0.objects(in: bytes) }
        case .object:
            if string("kind", in: bytes)?.hasSuffix("List") == true, let items = member("items")?.node, case .array = items.value {
                return items.objects(in: bytes)
            }
            return [self]
        default:
            return []
        }
    }
}

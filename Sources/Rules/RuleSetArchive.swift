/// A compact binary form of a `RuleSet`, for the on-disk cache of the built-in rules
/// (`BuiltInRulesCache`): decoding ~360 rules with `JSONDecoder` cost a pre-commit run ~8 ms,
/// reading them back from this form well under one.
///
/// Layout: every value in field order; integers as LEB128 varints, strings as a varint byte count
/// and UTF-8, optionals as a 0/1 byte then the value, arrays as a count then the elements, doubles
/// as their 64 IEEE bits. Nothing in it is versioned: the cache file name carries the format
/// version and a hash of the rules, so a reader never sees another layout.
enum RuleSetArchive {
    struct Truncated: Error {}

    static func encode(_ set: RuleSet) -> [UInt8] {
        var w = Writer()
        w.string(set.title)
        w.string(set.source)
        w.array(set.allowlists) { $0.allowlist($1) }
        w.array(set.rules) { w, rule in
            w.string(rule.id)
            w.string(rule.description)
            w.optional(rule.regex) { $0.string($1) }
            w.optional(rule.secretGroup) { $0.int($1) }
            w.optional(rule.entropy) { $0.int(Int(bitPattern: UInt(truncatingIfNeeded: $1.bitPattern))) }
            w.strings(rule.keywords)
            w.optional(rule.path) { $0.string($1) }
            w.strings(rule.tags)
            w.array(rule.allowlists) { $0.allowlist($1) }
            w.int(rule.skipReport ? 1 : 0)
            w.optional(rule.checksum) { $0.string($1) }
            w.strings(rule.examples)
            w.strings(rule.negativeExamples)
            w.strings(rule.sampleSecrets)
            w.optional(rule.sampleKey) { $0.string($1) }
            w.optional(rule.analyzer) { $0.string($1) }
            w.optional(rule.samplePath) { $0.string($1) }
        }
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> RuleSet {
        var r = Reader(bytes: bytes)
        let title = try r.string()
        let source = try r.string()
        let allowlists = try r.array { try $0.allowlist() }
        let rules = try r.array { r -> Rule in
            var rule = Rule(id: try r.string())
            rule.description = try r.string()
            rule.regex = try r.optional { try $0.string() }
            rule.secretGroup = try r.optional { try $0.int() }
            rule.entropy = try r.optional { Double(bitPattern: UInt64(UInt(bitPattern: try $0.int()))) }
            rule.keywords = try r.strings()
            rule.path = try r.optional { try $0.string() }
            rule.tags = try r.strings()
            rule.allowlists = try r.array { try $0.allowlist() }
            rule.skipReport = try r.int() != 0
            rule.checksum = try r.optional { try $0.string() }
            rule.examples = try r.strings()
            rule.negativeExamples = try r.strings()
            rule.sampleSecrets = try r.strings()
            rule.sampleKey = try r.optional { try $0.string() }
            rule.analyzer = try r.optional { try $0.string() }
            rule.samplePath = try r.optional { try $0.string() }
            return rule
        }
        guard r.offset == bytes.count else { throw Truncated() }
        return RuleSet(title: title, rules: rules, allowlists: allowlists, source: source)
    }

    struct Writer {
        var bytes: [UInt8] = []

        mutating func int(_ value: Int) {
            var v = UInt(bitPattern: value)
            while v >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            bytes.append(UInt8(v))
        }

        mutating func string(_ value: String) {
            int(value.utf8.count)
            bytes.append(contentsOf: value.utf8)
        }

        mutating func strings(_ values: [String]) { array(values) { $0.string($1) } }

        mutating func optional<T>(_ value: T?, _ write: (inout Writer, T) -> Void) {
            if let value {
                bytes.append(1)
                write(&self, value)
            } else {
                bytes.append(0)
            }
        }

        mutating func array<T>(_ values: [T], _ write: (inout Writer, T) -> Void) {
            int(values.count)
            for value in values { write(&self, value) }
        }

        mutating func allowlist(_ list: Allowlist) {
            string(list.description)
            string(list.condition.rawValue)
            string(list.regexTarget.rawValue)
            strings(list.regexes)
            strings(list.paths)
            strings(list.stopwords)
            strings(list.commits)
            strings(list.targetRules)
        }
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw Truncated() }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func int() throws -> Int {
            var value: UInt = 0
            var shift: UInt = 0
            while true {
                let b = try byte()
                guard shift < UInt(UInt.bitWidth) else { throw Truncated() }
                value |= UInt(b & 0x7f) << shift
                if b < 0x80 { return Int(bitPattern: value) }
                shift += 7
            }
        }

        mutating func string() throws -> String {
            let count = try int()
            guard count >= 0, count <= bytes.count - offset else { throw Truncated() }
            defer { offset += count }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + count]), as: UTF8.self)
        }

        mutating func strings() throws -> [String] { try array { try $0.string() } }

        mutating func optional<T>(_ read: (inout Reader) throws -> T) throws -> T? {
            switch try byte() {
            case 0: return nil
            case 1: return try read(&self)
            default: throw Truncated()
            }
        }

        mutating func array<T>(_ read: (inout Reader) throws -> T) throws -> [T] {
            let count = try int()
            // Every element takes at least one byte: a count beyond what is left is corrupt.
            guard count >= 0, count <= bytes.count - offset else { throw Truncated() }
            var values = [T]()
            values.reserveCapacity(count)
            for _ in 0 ..< count { values.append(try read(&self)) }
            return values
        }

        mutating func allowlist() throws -> Allowlist {
            let description = try string()
            guard let condition = Allowlist.Condition(rawValue: try string()),
                  let target = Allowlist.RegexTarget(rawValue: try string()) else { throw Truncated() }
            return Allowlist(description: description, condition: condition, regexTarget: target, regexes: try strings(),
                             paths: try strings(), stopwords: try strings(), commits: try strings(), targetRules: try strings())
        }
    }
}

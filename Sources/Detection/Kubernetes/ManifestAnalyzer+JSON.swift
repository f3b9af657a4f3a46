import Foundation

/// JSON manifests: a single object, a `kind: List` with `items`, a JSON array of objects, or several
/// concatenated objects. Findings span the `"key": "value"` pair and the secret is the value.
extension ManifestAnalyzer {
    /// Whether the first non-blank byte opens a JSON object (`{` then `"` or `}`: not a `{{` template) or array.
    static func startsLikeJSON(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
        func skipBlanks() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }
        skipBlanks()
        guard i < bytes.count else { return false }
        if bytes[i] == UInt8(ascii: "[") { return true }
        guard bytes[i] == UInt8(ascii: "{") else { return false }
        i += 1
        skipBlanks()
        return i < bytes.count && (bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "}"))
    }

    /// Larger JSON files are left to the regex rules.
    static let maxJSONBytes = 32 << 20

    static func jsonHits(in bytes: UnsafeRawBufferPointer, kinds: Set<Kind>, matcher: PCRE2Matcher) -> [Hit] {
        // Most JSON is not a manifest: parse only when a kind and a kind we look at are spelled out
        // (and not multi-megabyte data dumps, whose tree would cost more than it could find).
        guard bytes.count <= maxJSONBytes, contains(bytes, "\"kind\""),
              contains(bytes, "\"Secret\"") || contains(bytes, "\"SealedSecret\"") || contains(bytes, "\"ConfigMap\"") || contains(bytes, "\"env\""),
              let roots = PositionedJSON.parse(bytes) else { return [] }
        var hits = [Hit]()
        for object in roots.flatMap({ $0.objects(in: bytes) }) {
            let kind = object.string("kind", in: bytes)
            switch kind {
            case "Secret" where kinds.contains(.secretManifest):
                for section in ["data", "stringData"] {
                    for (member, inner) in stringMembers(object.member(section)?.node, bytes: bytes)
                    where !isPlaceholder(PositionedJSON.text(bytes, inner), matcher: matcher) {
                        hits.append(Hit(kind: .secretManifest, match: member.keyRange.lowerBound..<member.node.range.upperBound, value: inner))
                    }
                }
            case "SealedSecret" where kinds.contains(.unsealedValue):
                for data in members(named: "encryptedData", in: object) {
                    for (member, inner) in stringMembers(data.node, bytes: bytes) {
                        let text = PositionedJSON.text(bytes, inner)
                        guard !isPlaceholder(text, matcher: matcher), !SealedBlob.isSealed(base64: text) else { continue }
                        hits.append(Hit(kind: .unsealedValue, match: member.keyRange.lowerBound..<member.node.range.upperBound, value: inner))
                    }
                }
            case "ConfigMap" where kinds.contains(.configMapCredential):
                for (member, inner) in stringMembers(object.member("data")?.node, bytes: bytes) {
                    let text = PositionedJSON.text(bytes, inner)
                    guard !isPlaceholder(text, matcher: matcher), isCredential(key: member.key, value: text) else { continue }
                    hits.append(Hit(kind: .configMapCredential, match: member.keyRange.lowerBound..<member.node.range.upperBound, value: inner))
                }
            default:
                break
            }
            if kinds.contains(.envCredential) && kind != "Secret" && kind != "SealedSecret" {
                hits += envHits(in: object, bytes: bytes, matcher: matcher)
            }
        }
        return hits
    }

    /// `{"name": "DB_PASSWORD", "value": "..."}` entries of every `env` array in the object.
    private static func envHits(in object: PositionedJSON.Node, bytes: UnsafeRawBufferPointer, matcher: PCRE2Matcher) -> [Hit] {
        var hits = [Hit]()
        for env in members(named: "env", in: object) {
            guard case .array(let entries) = env.node.value else { continue }
            for entry in entries {
                guard let name = entry.string("name", in: bytes), CredentialHeuristics.isCredentialKey(name),
                      let nameMember = entry.member("name"), let valueMember = entry.member("value"),
                      case .string(let inner) = valueMember.node.value else { continue }
                let text = PositionedJSON.text(bytes, inner)
                guard !isPlaceholder(text, matcher: matcher), CredentialHeuristics.looksLikeCredential(text) else { continue }
                let start = min(nameMember.keyRange.lowerBound, valueMember.keyRange.lowerBound)
                let end = max(nameMember.node.range.upperBound, valueMember.node.range.upperBound)
                hits.append(Hit(kind: .envCredential, match: start..<end, value: inner))
            }
        }
        return hits
    }

    /// The members of an object node whose values are strings, with the strings' inner ranges.
    private static func stringMembers(_ node: PositionedJSON.Node?, bytes: UnsafeRawBufferPointer) -> [(PositionedJSON.Member, Range<Int>)] {
        guard let node, case .object(let members) = node.value else { return [] }
        return members.compactMap { member in
            if case .string(let inner) = member.node.value { return (member, inner) }
            return nil
        }
    }

    /// Every member called `key` anywhere below `node`, in document order.
    private static func members(named key: String, in node: PositionedJSON.Node) -> [PositionedJSON.Member] {
        switch node.value {
        case .object(let members):
            return members.flatMap { member in (member.key == key ? [member] : []) + Self.members(named: key, in: member.node) }
        case .array(let items):
            return items.flatMap { members(named: key, in: $0) }
        default:
            return []
        }
    }
}

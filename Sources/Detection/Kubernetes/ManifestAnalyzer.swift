import Foundation

/// Reads Kubernetes manifests line by line (so Helm templates with `{{ }}` and kustomizations work
/// too, where a YAML parser would give up) and points at the values a scanner should report: every
/// item of a plain Secret, ConfigMap entries, container `env` values and Helm values that hold
/// credentials, kustomize `secretGenerator` literals, and SealedSecret values that are not actually
/// sealed. JSON manifests (`{...}`, `[...]`, `kind: List`) are read with a position-keeping parser.
enum ManifestAnalyzer {
    /// Which structural check a rule runs (`analyzer = "..."` in the rule).
    enum Kind: String, CaseIterable, Sendable {
        case secretManifest = "kubernetes-secret"
        case configMapCredential = "kubernetes-configmap"
        case envCredential = "kubernetes-env"
        case kustomizeLiteral = "kustomize-secret-literal"
        case unsealedValue = "sealedsecret-unsealed-value"
        case helmValues = "helm-values"
    }

    /// A value to report: the `key: value` span and the value inside it (byte offsets).
    struct Hit {
        var kind: Kind
        var match: Range<Int>
        var value: Range<Int>
    }

    private struct Line {
        var start: Int
        var end: Int        // excluding the newline (and a trailing \r)
        var indent: Int
        var contentStart: Int
        var isBlank: Bool
        var isTemplateOrComment: Bool
        var isDocumentMarker: Bool
    }

    static func hits(in bytes: UnsafeRawBufferPointer, kinds: Set<Kind>, matcher: PCRE2Matcher) -> [Hit] {
        if startsLikeJSON(bytes) { return jsonHits(in: bytes, kinds: kinds, matcher: matcher) }
        // Most YAML is not a manifest: skip the line walk unless a manifest marker is present
        // (Helm values files, which the rules' path already singled out, have none).
        guard kinds.contains(.helmValues) || contains(bytes, "kind:") || contains(bytes, "secretGenerator:") else { return [] }
        var hits = [Hit]()
        for document in documents(lines(of: bytes)) {
            hits += analyze(document, bytes: bytes, kinds: kinds, matcher: matcher)
        }
        return hits
    }

    /// The hits of one YAML document (or one item of a `kind: List`).
    private static func analyze(_ document: [Line], bytes: UnsafeRawBufferPointer, kinds: Set<Kind>, matcher: PCRE2Matcher) -> [Hit] {
        var hits = [Hit]()
        let kind = topLevelValue("kind", in: document, bytes: bytes)
        if let kind, kind.hasSuffix("List") {
            for item in listItems(in: document, bytes: bytes) { hits += analyze(item, bytes: bytes, kinds: kinds, matcher: matcher) }
            return hits
        }
        let isKustomization = kind == "Kustomization" || (kind == nil && document.contains { $0.indent == 0 && startsWith(bytes, $0, "secretGenerator:") })
        if kind == nil && !isKustomization && kinds.contains(.helmValues) {
            return helmValues(in: document, bytes: bytes, matcher: matcher)
        }
        if kind == "Secret" {
            if kinds.contains(.secretManifest) {
                for section in ["data", "stringData"] {
                    hits += items(under: section, in: document, bytes: bytes, matcher: matcher).map { Hit(kind: .secretManifest, match: $0.match, value: $0.value) }
                }
            }
        } else if kind == "SealedSecret" {
            if kinds.contains(.unsealedValue) {
                for item in items(under: "encryptedData", in: document, bytes: bytes, matcher: matcher, anyDepth: true) {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[item.value]), as: UTF8.self)
                    if !SealedBlob.isSealed(base64: text) { hits.append(Hit(kind: .unsealedValue, match: item.match, value: item.value)) }
                }
            }
        } else if kind == "ConfigMap" {
            if kinds.contains(.configMapCredential) {
                for item in items(under: "data", in: document, bytes: bytes, matcher: matcher)
                where isCredential(key: item.key, value: text(bytes, item.value)) {
                    hits.append(Hit(kind: .configMapCredential, match: item.match, value: item.value))
                }
            }
        } else if isKustomization {
            if kinds.contains(.kustomizeLiteral) { hits += kustomizeLiterals(in: document, bytes: bytes) }
        }
        if kinds.contains(.envCredential) && kind != "Secret" && kind != "SealedSecret" {
            hits += envValues(in: document, bytes: bytes, matcher: matcher, reportAs: .envCredential)
        }
        return hits
    }

    /// The items of a `kind: List` document's block sequence `items:`, each as a document of its own:
    /// the `- ` of an item's first line is skipped and indents are made relative to the item.
    private static func listItems(in document: [Line], bytes: UnsafeRawBufferPointer) -> [[Line]] {
        guard let start = document.firstIndex(where: { $0.indent == 0 && !$0.isTemplateOrComment && line(bytes, $0) == "items:" }) else { return [] }
        var items = [[Line]]()
        var sequenceIndent: Int?
        for l in document[(start + 1)...] {
            if l.isBlank || l.isTemplateOrComment {
                if !items.isEmpty { items[items.count - 1].append(l) }
                continue
            }
            let isEntry = startsWith(bytes, l, "- ")
            if sequenceIndent == nil {
                guard isEntry else { return [] }
                sequenceIndent = l.indent
            }
            guard let indent = sequenceIndent, l.indent > indent || (l.indent == indent && isEntry) else { break }
            var adjusted = l
            if l.indent == indent {
                adjusted.contentStart += 2
                while adjusted.contentStart < adjusted.end && bytes[adjusted.contentStart] == 0x20 { adjusted.contentStart += 1 }
                adjusted.indent = 0
                items.append([adjusted])
            } else if !items.isEmpty {
                adjusted.indent = max(0, l.indent - indent - 2)
                items[items.count - 1].append(adjusted)
            }
        }
        return items
    }

    /// A credential-named key holding a credential-looking value (ConfigMaps, env, Helm values).
    static func isCredential(key: String, value: String) -> Bool {
        CredentialHeuristics.isCredentialKey(key) && CredentialHeuristics.looksLikeCredential(value)
    }

    private static func text(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    // MARK: - Lines and documents

    private static func lines(of bytes: UnsafeRawBufferPointer) -> [Line] {
        var result = [Line]()
        var start = 0
        let n = bytes.count
        while start < n {
            var end = start
            while end < n && bytes[end] != 0x0A { end += 1 }
            var contentEnd = end
            if contentEnd > start && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            var i = start
            while i < contentEnd && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
            let blank = i == contentEnd
            let isTemplate = !blank && (bytes[i] == UInt8(ascii: "#") || (bytes[i] == UInt8(ascii: "{") && i + 1 < contentEnd && bytes[i + 1] == UInt8(ascii: "{")))
            let marker = i == start && contentEnd - start >= 3
                && ((bytes[start] == UInt8(ascii: "-") && bytes[start + 1] == UInt8(ascii: "-") && bytes[start + 2] == UInt8(ascii: "-")
                     && (contentEnd - start == 3 || bytes[start + 3] == 0x20))
                    || (contentEnd - start == 3 && bytes[start] == UInt8(ascii: ".") && bytes[start + 1] == UInt8(ascii: ".") && bytes[start + 2] == UInt8(ascii: ".")))
            result.append(Line(start: start, end: contentEnd, indent: i - start, contentStart: i, isBlank: blank,
                               isTemplateOrComment: isTemplate, isDocumentMarker: marker))
            start = end + 1
        }
        return result
    }

    private static func documents(_ lines: [Line]) -> [[Line]] {
        var docs = [[Line]]()
        var current = [Line]()
        for l in lines {
            if l.isDocumentMarker {
                docs.append(current)
                current = []
            } else {
                current.append(l)
            }
        }
        docs.append(current)
        return docs.filter { !$0.isEmpty }
    }

    /// Whether line `l`'s content starts with `prefix` (a byte comparison: no String is made).
    private static func startsWith(_ bytes: UnsafeRawBufferPointer, _ l: Line, _ prefix: String) -> Bool {
        var p = l.contentStart
        for b in prefix.utf8 {
            guard p < l.end, bytes[p] == b else { return false }
            p += 1
        }
        return true
    }

    private static func line(_ bytes: UnsafeRawBufferPointer, _ l: Line) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[l.contentStart..<l.end]), as: UTF8.self)
            .trimmingSpaces()
    }

    private static func topLevelValue(_ key: String, in document: [Line], bytes: UnsafeRawBufferPointer) -> String? {
        for l in document where l.indent == 0 && !l.isBlank && !l.isTemplateOrComment && startsWith(bytes, l, key + ":") {
            let text = line(bytes, l)
            if text.hasPrefix(key + ":") {
                return unquote(text.dropFirst(key.count + 1).trimmingSpaces())
            }
        }
        return nil
    }

    // MARK: - Mapping items

    private struct Item {
        var key: String
        var match: Range<Int>
        var value: Range<Int>
    }

    /// `key: value` children of the mapping `section:` (top level, or at any depth with `anyDepth`).
    private static func items(under section: String, in document: [Line], bytes: UnsafeRawBufferPointer, matcher: PCRE2Matcher,
                              anyDepth: Bool = false) -> [Item] {
        var result = [Item]()
        var i = 0
        while i < document.count {
            let l = document[i]
            i += 1
            guard !l.isBlank, !l.isTemplateOrComment, anyDepth || l.indent == 0, startsWith(bytes, l, section + ":") else { continue }
            let text = line(bytes, l)
            guard text == section + ":" || text.hasPrefix(section + ": #") else { continue }
            let parentIndent = l.indent
            var childIndent: Int?
            while i < document.count {
                let c = document[i]
                if c.isBlank || c.isTemplateOrComment { i += 1; continue }
                if c.indent <= parentIndent { break }
                if childIndent == nil { childIndent = c.indent }
                if c.indent == childIndent, let item = item(c, document: document, index: i, bytes: bytes, matcher: matcher) {
                    result.append(item)
                }
                i += 1
            }
        }
        return result
    }

    /// Parses `key: value` on line `l`; block scalars (`|`, `>`) take the following deeper lines.
    private static func item(_ l: Line, document: [Line], index: Int, bytes: UnsafeRawBufferPointer,
                             matcher: PCRE2Matcher) -> Item? {
        var colon = l.contentStart
        while colon < l.end && bytes[colon] != UInt8(ascii: ":") { colon += 1 }
        guard colon < l.end else { return nil }
        let key = unquote(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[l.contentStart..<colon]), as: UTF8.self))
        var v = colon + 1
        while v < l.end && (bytes[v] == 0x20 || bytes[v] == 0x09) { v += 1 }
        var valueEnd = l.end
        // A trailing comment after a plain value.
        if v < l.end && bytes[v] != UInt8(ascii: "\"") && bytes[v] != UInt8(ascii: "'") {
            var k = v
            while k + 1 < l.end && !(bytes[k] == 0x20 && bytes[k + 1] == UInt8(ascii: "#")) { k += 1 }
            if k + 1 < l.end { valueEnd = k }
        }
        while valueEnd > v && (bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09) { valueEnd -= 1 }
        if v < valueEnd && (bytes[v] == UInt8(ascii: "|") || bytes[v] == UInt8(ascii: ">")) {
            // Block scalar: the value is the following more-indented lines.
            var j = index + 1
            var last: Line?
            while j < document.count {
                let c = document[j]
                if !c.isBlank && c.indent <= l.indent { break }
                if !c.isBlank { last = c }
                j += 1
            }
            guard let last, let first = document[(index + 1)...].first(where: { !$0.isBlank }) else { return nil }
            return Item(key: key, match: l.contentStart..<last.end, value: first.contentStart..<last.end)
        }
        // Strip quotes.
        if valueEnd - v >= 2, (bytes[v] == UInt8(ascii: "\"") || bytes[v] == UInt8(ascii: "'")), bytes[valueEnd - 1] == bytes[v] {
            v += 1
            valueEnd -= 1
        }
        guard v < valueEnd else { return nil }
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[v..<valueEnd]), as: UTF8.self)
        if isPlaceholder(value, matcher: matcher) { return nil }
        return Item(key: key, match: l.contentStart..<l.end, value: v..<valueEnd)
    }

    /// Template expressions, references and empty-ish values: nothing is written in the file itself.
    static func isPlaceholder(_ value: String, matcher: PCRE2Matcher) -> Bool {
        let v = value.trimmingSpaces()
        if v.isEmpty || v == "~" || v == "null" || v == "\"\"" || v == "''" { return true }
        if v.hasPrefix("{{") && v.hasSuffix("}}") { return true }
        if v.hasPrefix("${") && v.hasSuffix("}") { return true }
        if v.hasPrefix("$(") && v.hasSuffix(")") { return true }
        if v.hasPrefix("<") && v.hasSuffix(">") { return true }
        if looksLikePlaceholderText(v, matcher: matcher) { return true }
        // `data:` values are base64: judge what they say.
        if v.count >= 4, v.count % 4 == 0, let decoded = Data(base64Encoded: v), let text = String(data: decoded, encoding: .utf8),
           !text.isEmpty, text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            return looksLikePlaceholderText(text.trimmingSpaces(), matcher: matcher)
        }
        return false
    }

    /// Documentation values: `changeme`, `YOUR_API_KEY_HERE`, `xxxx…`, `****`, `<redacted>`,
    /// provider example keys, `user:password@localhost`.
    static let placeholderText = try? PCRE2Regex(
        #"(?i)^(?:.*(?:x{6,}|\*{4,}|\.{4,}|example|change[-_ ]?me|replace[-_ ]?me|placeholder|redacted|dummy|your[-_ ]?[a-z_ -]{0,30}here|:password@|(?:user|username|admin):(?:pass|password|secret)@|<[^>]+>).*|password|passw0rd|secret|test|todo|none|n/?a)$"#)

    static func looksLikePlaceholderText(_ text: String, matcher: PCRE2Matcher) -> Bool {
        guard let placeholderText else { return false }
        return matcher.isMatch(placeholderText, text)
    }

    static func contains(_ bytes: UnsafeRawBufferPointer, _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard let first = n.first, bytes.count >= n.count, let base = bytes.baseAddress else { return false }
        var offset = 0
        let last = bytes.count - n.count
        while offset <= last, let hit = memchr(base + offset, Int32(first), last - offset + 1) {
            let at = base.distance(to: UnsafeRawPointer(hit))
            if n.indices.allSatisfy({ bytes[at + $0] == n[$0] }) { return true }
            offset = at + 1
        }
        return false
    }

    private static func unquote(_ s: String) -> String {
        if s.count >= 2, let f = s.first, let l = s.last, f == l, f == "\"" || f == "'" { return String(s.dropFirst().dropLast()) }
        return s
    }

    // MARK: - env and kustomize

    /// `- name: DB_PASSWORD` followed by `value: ...` at the same indent (container env entries).
    private static func envValues(in document: [Line], bytes: UnsafeRawBufferPointer, matcher: PCRE2Matcher, reportAs kind: Kind) -> [Hit] {
        var hits = [Hit]()
        for (i, l) in document.enumerated() where !l.isBlank && !l.isTemplateOrComment && startsWith(bytes, l, "- name:") {
            let text = line(bytes, l)
            let name = unquote(text.dropFirst(7).trimmingSpaces())
            guard CredentialHeuristics.isCredentialKey(name) else { continue }
            let fieldIndent = l.indent + 2
            var j = i + 1
            while j < document.count {
                let c = document[j]
                if c.isBlank || c.isTemplateOrComment { j += 1; continue }
                if c.indent != fieldIndent { break }
                if startsWith(bytes, c, "value:"), let item = item(c, document: document, index: j, bytes: bytes, matcher: matcher),
                   CredentialHeuristics.looksLikeCredential(self.text(bytes, item.value)) {
                    hits.append(Hit(kind: kind, match: l.contentStart..<item.match.upperBound, value: item.value))
                }
                j += 1
            }
        }
        return hits
    }

    /// Helm values: every `key: value` (at any depth, list items included) whose key names a credential
    /// and whose value looks like one, and `- name: X` / `value: Y` env lists.
    private static func helmValues(in document: [Line], bytes: UnsafeRawBufferPointer, matcher: PCRE2Matcher) -> [Hit] {
        var hits = [Hit]()
        for (i, l) in document.enumerated() where !l.isBlank && !l.isTemplateOrComment {
            var entry = l
            if startsWith(bytes, l, "- ") {
                entry.contentStart += 2
                while entry.contentStart < entry.end && bytes[entry.contentStart] == 0x20 { entry.contentStart += 1 }
            }
            guard let item = item(entry, document: document, index: i, bytes: bytes, matcher: matcher),
                  item.match.upperBound == l.end,   // one-line scalars only
                  isCredential(key: item.key, value: text(bytes, item.value)) else { continue }
            hits.append(Hit(kind: .helmValues, match: item.match, value: item.value))
        }
        return hits + envValues(in: document, bytes: bytes, matcher: matcher, reportAs: .helmValues)
    }

    /// `secretGenerator:` → `literals:` → `- KEY=value`.
    private static func kustomizeLiterals(in document: [Line], bytes: UnsafeRawBufferPointer) -> [Hit] {
        var hits = [Hit]()
        var inGenerator = false
        var literalsIndent: Int?
        for l in document where !l.isBlank && !l.isTemplateOrComment {
            let text = line(bytes, l)
            if l.indent == 0 && !text.hasPrefix("- ") {
                inGenerator = text.hasPrefix("secretGenerator:")
                literalsIndent = nil
                continue
            }
            guard inGenerator else { continue }
            if text.hasPrefix("literals:") || text.hasPrefix("- literals:") {
                literalsIndent = l.indent
                continue
            }
            if let indent = literalsIndent, l.indent >= indent, text.hasPrefix("- ") {
                var start = l.contentStart + 2
                while start < l.end && bytes[start] == 0x20 { start += 1 }
                var eq = start
                while eq < l.end && bytes[eq] != UInt8(ascii: "=") { eq += 1 }
                guard eq < l.end else { continue }
                var v = eq + 1
                var end = l.end
                if end - v >= 2, bytes[v] == UInt8(ascii: "\"") || bytes[v] == UInt8(ascii: "'"), bytes[end - 1] == bytes[v] { v += 1; end -= 1 }
                // A quoted whole item: `- "KEY=value"`.
                if end > v && (bytes[end - 1] == UInt8(ascii: "\"") || bytes[end - 1] == UInt8(ascii: "'")) { end -= 1 }
                guard v < end else { continue }
                hits.append(Hit(kind: .kustomizeLiteral, match: l.contentStart..<l.end, value: v..<end))
            } else if let indent = literalsIndent, l.indent <= indent, !text.hasPrefix("- ") {
                literalsIndent = nil
            }
        }
        return hits
    }
}

/// For inputs outside Detection that must decide whether a file needs whole-file manifest analysis
/// (diff modes hand over only the added lines of a change).
public enum KubernetesManifest {
    /// A YAML or JSON file name.
    public static func mayBeManifest(path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") || lower.hasSuffix(".json")
    }

    /// Holds a manifest marker: `kind` (YAML `kind:` or JSON `"kind"`) or a kustomization's `secretGenerator:`.
    public static func hasMarker(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { ManifestAnalyzer.contains($0, "kind") || ManifestAnalyzer.contains($0, "secretGenerator:") }
    }
}

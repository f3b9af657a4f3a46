import Foundation
import Rules

/// Scans byte buffers with a `Detector`. One per thread: it owns the Vectorscan scratch space,
/// the PCRE2 match state and the candidate buffers.
public final class Scanner {
    public let detector: Detector
    private let scratch: VectorscanScratch?
    private let collector: CandidateCollector
    private let matcher = PCRE2Matcher()

    init(detector: Detector) {
        self.detector = detector
        scratch = detector.database.flatMap { try? VectorscanScratch(for: $0) }
        collector = CandidateCollector(ruleCount: detector.rules.count, keywordCount: detector.keywords.count,
                                       triggerCount: SegmentDecoder.Trigger.allCases.count)
    }

    /// Whether a global path-only allowlist excludes `path` entirely (checked before reading a file).
    public func isPathAllowlisted(_ path: String) -> Bool {
        if let combined = detector.globalPathAllowlist { return matcher.isMatch(combined, path) }
        return detector.globalAllowlists.contains { $0.targetRules.isEmpty && $0.allowsPath(path, matcher: matcher) }
    }

    /// Finds the credentials in `bytes`.
    /// - Parameters:
    ///   - firstLine: line number of the first byte (for chunks of a large file).
    ///   - owned: only findings starting in this byte range are reported (chunk overlap handling).
    ///   - pathChecked: the caller already asked `isPathAllowlisted` (a directory scan does, before
    ///     reading the file).
    ///   - anyPath: judge the content as if it could sit at any path in any commit: pattern rules' path
    ///     conditions count as met, allowlists' path and commit conditions as unmet, path-only rules report
    ///     nothing, and decoding has no byte budget. Manifest analyzers alone still run only where their
    ///     path condition holds for `provenance.file` (run on every blob, they parse every YAML and JSON
    ///     file as a manifest; `analyzerPaths(_:)` tells a caller which other paths would differ). What
    ///     this reports is a superset of what a scan of the same bytes at any path with the same
    ///     `analyzerPaths` reports: the test that lets diff mode skip commits whose new content holds
    ///     nothing (`GitInput.scanDiff`).
    public func scan(_ bytes: UnsafeRawBufferPointer, provenance: Provenance, firstLine: Int = 1,
                     owned: Range<Int>? = nil, pathChecked: Bool = false, anyPath: Bool = false) -> [Finding] {
        if !anyPath && !pathChecked && isPathAllowlisted(provenance.file) { return [] }
        var context = UnitContext(top: bytes, provenance: provenance, firstLine: firstLine, owned: owned,
                                  budget: anyPath ? Int.max : detector.options.maxDecodedBytes, anyPath: anyPath)
        scanLayer(bytes, depth: 0, outer: nil, encodings: [], context: &context)
        runAnalyzers(bytes, context: &context)
        if !anyPath { reportPathRules(&context) }
        return Self.preferSpecific(context.findings)
    }

    /// When a provider rule and a generic rule (`generic-*`) report the same secret at the same
    /// place, only the provider's finding is kept: it names what the secret is.
    static func preferSpecific(_ findings: [Finding]) -> [Finding] {
        guard findings.count > 1, findings.contains(where: { $0.ruleID.hasPrefix("generic-") }) else { return findings }
        var specific = Set<String>()
        for f in findings where !f.ruleID.hasPrefix("generic-") { specific.insert("\(f.startLine)\u{0}\(f.secret)") }
        return findings.filter { !$0.ruleID.hasPrefix("generic-") || !specific.contains("\($0.startLine)\u{0}\($0.secret)") }
    }

    /// The printable text `secret` decodes to when it is standard base64 of text, else nil.
    static func base64Text(_ secret: String) -> String? {
        let count = secret.utf8.count
        guard count >= 8, count <= 4096, count % 4 == 0,
              secret.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2F || $0 == 0x3D }),
              let data = Data(base64Encoded: secret), !data.isEmpty,
              data.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Convenience for tests and small inputs.
    public func scan(_ text: String, path: String = "") -> [Finding] {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { scan(UnsafeRawBufferPointer($0), provenance: Provenance(file: path)) }
    }

    // MARK: - Implementation

    /// State for one scanned unit across decode layers.
    private struct UnitContext {
        let top: UnsafeRawBufferPointer
        let provenance: Provenance
        let firstLine: Int
        let owned: Range<Int>?
        /// See `scan(_:provenance:firstLine:owned:pathChecked:anyPath:)`.
        let anyPath: Bool
        var budget: Int
        var lineIndex: LineIndex?
        var findings: [Finding] = []
        var seen = Set<SeenKey>()
        var pathMatches: [Int: Bool] = [:]
        /// Text and inline-allow status of each line range findings fell on: a long (minified) line
        /// holding many findings is copied and searched once, and its findings share one string.
        var lineTexts: [Range<Int>: (text: String, inlineAllow: Bool)] = [:]

        init(top: UnsafeRawBufferPointer, provenance: Provenance, firstLine: Int, owned: Range<Int>?, budget: Int, anyPath: Bool) {
            self.top = top
            self.anyPath = anyPath
            self.provenance = provenance
            self.firstLine = firstLine
            self.owned = owned
            self.budget = budget
        }

        mutating func lineText(_ range: Range<Int>) -> (text: String, inlineAllow: Bool) {
            if let known = lineTexts[range] { return known }
            let bytes = UnsafeRawBufferPointer(rebasing: top[range])
            let entry = (String(decoding: bytes, as: UTF8.self), Scanner.containsInlineAllow(bytes))
            lineTexts[range] = entry
            return entry
        }

        mutating func lines() -> LineIndex {
            if let lineIndex { return lineIndex }
            let index = LineIndex(top, firstLine: firstLine)
            lineIndex = index
            return index
        }
    }

    private struct SeenKey: Hashable {
        var rule: Int
        var location: Range<Int>
        var secret: String
    }

    /// Whether `path` meets each manifest analyzer rule's path condition (in `Detector.analyzerIndices` order).
    public func analyzerPaths(_ path: String) -> [Bool] {
        detector.analyzerIndices.map { index in detector.rules[index].path.map { matcher.isMatch($0, path) } ?? true }
    }

    /// `atProvenance`: the rule's path condition is checked against `provenance.file` even under `anyPath`.
    private func pathMatches(_ rule: CompiledRule, index: Int, context: inout UnitContext, atProvenance: Bool = false) -> Bool {
        guard let path = rule.path, atProvenance || !context.anyPath else { return true }
        if let known = context.pathMatches[index] { return known }
        let result = matcher.isMatch(path, context.provenance.file)
        context.pathMatches[index] = result
        return result
    }

    /// - Parameter inheritedKeywords: keyword hits of the enclosing layers: a keyword anywhere in
    ///   the unit (e.g. `commit_token: <base64>`) gates rules on decoded text too, as in gitleaks.
    private func scanLayer(_ bytes: UnsafeRawBufferPointer, depth: Int, outer: Range<Int>?, encodings: [Encoding],
                           inheritedKeywords: [Bool] = [], context: inout UnitContext) {
        guard bytes.count > 0 else { return }
        collector.resetKeywords()
        if let database = detector.database, let scratch {
            database.scan(bytes, scratch: scratch, collector: collector)
        }
        let candidates = collector.drain()
        var keywordHits = collector.keywordHits
        for (i, hit) in inheritedKeywords.enumerated() where hit { keywordHits[i] = true }
        let triggers = collector.triggerEnds

        // Vectorscan-confirmed rules: windows around candidate ends, merged per rule.
        var i = 0
        while i < candidates.count {
            let ruleIndex = candidates[i].rule
            var j = i
            while j < candidates.count && candidates[j].rule == ruleIndex { j += 1 }
            let rule = detector.rules[ruleIndex]
            if passesGates(rule, index: ruleIndex, keywordHits: keywordHits, context: &context),
               case .vectorscan(let lookBehind) = rule.stage, let regex = rule.regex {
                var windows = [Range<Int>]()
                for c in candidates[i..<j] {
                    let lo = lineStart(bytes, before: max(0, c.firstEnd - lookBehind))
                    let hi = lineEnd(bytes, after: c.lastEnd)
                    if let last = windows.last, lo <= last.upperBound {
                        windows[windows.count - 1] = last.lowerBound..<max(last.upperBound, hi)
                    } else {
                        windows.append(lo..<hi)
                    }
                }
                for window in windows {
                    for m in matcher.matches(regex, in: bytes, searchRange: window) {
                        record(m, rule: rule, ruleIndex: ruleIndex, bytes: bytes, outer: outer, encodings: encodings,
                               depth: depth, context: &context)
                    }
                }
            }
            i = j
        }
        // Rules Vectorscan could not take or is not asked to: PCRE2 over the whole layer, behind the same gates.
        for ruleIndex in detector.wholeInputIndices {
            let rule = detector.rules[ruleIndex]
            guard let regex = rule.regex, passesGates(rule, index: ruleIndex, keywordHits: keywordHits, context: &context) else { continue }
            for m in matcher.matches(regex, in: bytes, searchRange: 0..<bytes.count) {
                record(m, rule: rule, ruleIndex: ruleIndex, bytes: bytes, outer: outer, encodings: encodings,
                       depth: depth, context: &context)
            }
        }
        // Look through encodings.
        guard depth < detector.options.maxDecodeDepth, context.budget > 0 else { return }
        for segment in SegmentDecoder.segments(in: bytes, triggers: triggers, budget: &context.budget) {
            let location = outer ?? segment.range
            segment.decoded.withUnsafeBytes { decoded in
                scanLayer(decoded, depth: depth + 1, outer: location, encodings: encodings + [segment.encoding],
                          inheritedKeywords: keywordHits,
                          context: &context)
            }
        }
    }

    private func passesGates(_ rule: CompiledRule, index: Int, keywordHits: [Bool], context: inout UnitContext) -> Bool {
        if !rule.keywordIDs.isEmpty && !rule.keywordIDs.contains(where: { keywordHits[$0] }) { return false }
        return pathMatches(rule, index: index, context: &context)
    }

    /// Turns a confirmed regex match into a finding, applying every filter.
    private func record(_ m: PCRE2Match, rule: CompiledRule, ruleIndex: Int, bytes: UnsafeRawBufferPointer,
                        outer: Range<Int>?, encodings: [Encoding], depth: Int, context: inout UnitContext) {
        guard !rule.rule.skipReport else { return }
        let secretRange: Range<Int>
        if let group = rule.rule.secretGroup, group > 0 {
            guard group <= m.groups.count, let range = m.groups[group - 1] else { return }
            secretRange = range
        } else if let firstNonEmpty = m.groups.first(where: { ($0?.count ?? 0) > 0 }), let range = firstNonEmpty {
            secretRange = range
        } else {
            secretRange = m.range
        }
        guard !secretRange.isEmpty else { return }
        let location = outer ?? m.range
        if let owned = context.owned, !owned.contains(location.lowerBound) { return }

        let secretBytes = UnsafeRawBufferPointer(rebasing: bytes[secretRange])
        let secret = String(decoding: secretBytes, as: UTF8.self)
        let entropy = Entropy.shannon(secretBytes)
        if let threshold = rule.rule.entropy, entropy <= threshold { return }
        if let checksum = rule.checksum, !checksum.isValid(secret) { return }
        // Sealed Secrets ciphertext is safe to commit, whatever rule its shape happens to match.
        if secretRange.count >= 360, SealedBlob.isSealed(base64: secret) { return }

        let key = SeenKey(rule: ruleIndex, location: location, secret: secret)
        guard !context.seen.contains(key) else { return }

        let lines = context.lines()
        let lineRange = lines.lines(spanning: location, count: context.top.count)
        let (line, inlineAllow) = context.lineText(lineRange)
        if !detector.options.ignoreInlineAllow && inlineAllow { return }
        let match = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[m.range]), as: UTF8.self)
        // Under `anyPath` no path or commit condition of an allowlist holds.
        let path: String? = context.anyPath ? nil : context.provenance.file
        let commit = context.anyPath ? "" : context.provenance.commit
        // A base64 value is judged by what it says too: `cGFzc3dvcmQ=` is the placeholder `password`.
        let readable = Self.base64Text(secret)
        for list in detector.globalAllowlists where list.targetRules.isEmpty || list.targetRules.contains(rule.rule.id) {
            if list.allows(secret: secret, match: match, line: line, path: path, commit: commit, matcher: matcher) { return }
            if let readable, list.allows(secret: readable, match: match, line: line, path: path, commit: commit, matcher: matcher) { return }
        }
        for list in rule.allowlists {
            if list.allows(secret: secret, match: match, line: line, path: path, commit: commit, matcher: matcher) { return }
            if let readable, list.allows(secret: readable, match: match, line: line, path: path, commit: commit, matcher: matcher) { return }
        }
        context.seen.insert(key)

        let start = lines.position(of: location.lowerBound)
        let end = lines.position(of: max(location.lowerBound, location.upperBound - 1))
        var tags = rule.rule.tags
        if !encodings.isEmpty {
            tags += encodings.map { "decoded:\($0.rawValue)" } + ["decode-depth:\(depth)"]
        }
        context.findings.append(Finding(
            ruleID: rule.rule.id, description: rule.rule.description,
            startLine: start.line, endLine: end.line, startColumn: start.column, endColumn: end.column,
            match: match, secret: secret, line: line, provenance: context.provenance, entropy: entropy, tags: tags,
            fingerprint: Fingerprint.content(file: context.provenance.file, ruleID: rule.rule.id, secret: secret)))
    }

    /// Structural manifest checks, on the original text only.
    private func runAnalyzers(_ bytes: UnsafeRawBufferPointer, context: inout UnitContext) {
        var wanted = [ManifestAnalyzer.Kind: Int]()
        for index in detector.analyzerIndices {
            let rule = detector.rules[index]
            if case .analyzer(let kind) = rule.stage, pathMatches(rule, index: index, context: &context, atProvenance: true) { wanted[kind] = index }
        }
        guard !wanted.isEmpty else { return }
        for hit in ManifestAnalyzer.hits(in: bytes, kinds: Set(wanted.keys), matcher: matcher) {
            guard let index = wanted[hit.kind] else { continue }
            record(PCRE2Match(range: hit.match, groups: [hit.value]), rule: detector.rules[index], ruleIndex: index,
                   bytes: bytes, outer: nil, encodings: [], depth: 0, context: &context)
        }
    }

    /// Path-only rules report the file itself.
    private func reportPathRules(_ context: inout UnitContext) {
        for index in detector.pathOnlyIndices {
            let rule = detector.rules[index]
            guard case .pathOnly = rule.stage, rule.rule.regex == nil, !rule.rule.skipReport, pathMatches(rule, index: index, context: &context) else { continue }
            let path = context.provenance.file
            let match = "file detected: \(path)"
            context.findings.append(Finding(
                ruleID: rule.rule.id, description: rule.rule.description, startLine: 0, endLine: 0,
                startColumn: 0, endColumn: 0, match: match, secret: "", provenance: context.provenance,
                entropy: 0, tags: rule.rule.tags, fingerprint: Fingerprint.content(file: path, ruleID: rule.rule.id, secret: path)))
        }
    }

    /// Whether `bytes` contain `sealant:allow` or `gitleaks:allow` (a byte search: lines can be megabytes).
    static func containsInlineAllow(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        func has(_ word: StaticString, at offset: Int) -> Bool {
            let count = word.utf8CodeUnitCount
            guard offset >= 0, offset + count <= bytes.count else { return false }
            return memcmp(base + offset, word.utf8Start, count) == 0
        }
        var p = base
        let end = base + bytes.count
        while p < end, let hit = memchr(p, Int32(UInt8(ascii: ":")), end - p) {
            let colon = UnsafeRawPointer(hit) - base
            if has("allow", at: colon + 1) && (has("sealant", at: colon - 7) || has("gitleaks", at: colon - 8)) { return true }
            p = UnsafeRawPointer(hit) + 1
        }
        return false
    }

    /// Start of the line holding `offset`, looking back at most 4 KiB.
    private func lineStart(_ bytes: UnsafeRawBufferPointer, before offset: Int) -> Int {
        var i = offset
        let limit = max(0, offset - 4096)
        while i > limit && bytes[i - 1] != 0x0A { i -= 1 }
        return i
    }

    /// Just past the newline ending the line at `offset` (or the end), looking ahead at most 4 KiB.
    private func lineEnd(_ bytes: UnsafeRawBufferPointer, after offset: Int) -> Int {
        var i = min(offset, bytes.count)
        let limit = min(bytes.count, offset + 4096)
        while i < limit && bytes[i] != 0x0A { i += 1 }
        return min(bytes.count, i < limit ? i + 1 : i)
    }
}

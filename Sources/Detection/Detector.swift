import CVectorscan
import Rules

/// Settings that change what the detector reports.
public struct DetectorOptions: Sendable {
    /// How many layers of base64/hex/percent/unicode encoding to look through (0 = none).
    public var maxDecodeDepth: Int
    /// Upper bound on bytes decoded per scanned unit, so hostile input cannot blow up memory.
    public var maxDecodedBytes: Int
    /// Ignore `sealant:allow` / `gitleaks:allow` comments.
    public var ignoreInlineAllow: Bool

    public init(maxDecodeDepth: Int = 5, maxDecodedBytes: Int = 8 << 20, ignoreInlineAllow: Bool = false) {
        self.maxDecodeDepth = maxDecodeDepth
        self.maxDecodedBytes = maxDecodedBytes
        self.ignoreInlineAllow = ignoreInlineAllow
    }
}

/// The compiled rule set: one Vectorscan database for all rules (candidates) plus PCRE2 per rule
/// (confirmation and capture groups). Immutable and shared; each thread scans with its own `Scanner`.
public final class Detector: Sendable {
    public let ruleSet: RuleSet
    public let options: DetectorOptions
    let rules: [CompiledRule]
    let keywords: [String]
    /// For each keyword, the rules it gates.
    let database: VectorscanDatabase?
    let globalAllowlists: [CompiledAllowlist]
    /// The path regexes of every global path-only allowlist that applies to all rules, as one
    /// alternation: a directory scan asks once per file whether to skip it, and ~10 separate
    /// searches per question were a tenth of the scan. nil when there are none, or when a pattern
    /// uses something an alternation would change (backreferences, `\Q` ... ).
    let globalPathAllowlist: PCRE2Regex?
    /// Rules Vectorscan could not take, with the reason (they still run, through PCRE2 alone).
    public let pcre2OnlyRules: [(id: String, reason: String)]
    /// Indexes into `rules` by stage, so per-unit passes touch only the rules they run (copying
    /// every rule for every blob showed up as a tenth of a history scan). `wholeInputIndices`:
    /// the rules PCRE2 runs over the whole input, behind their keywords (`.pcre2Only`, `.keywordGated`).
    let wholeInputIndices: [Int]
    let pathOnlyIndices: [Int]
    /// Whether some rule reports a file by its path alone.
    public var hasPathOnlyRules: Bool { !pathOnlyIndices.isEmpty }
    let analyzerIndices: [Int]

    /// Longest look-behind window for rules of unbounded width.
    static let unboundedLookBehind = 4096
    static let maxLookBehind = 64 * 1024

    /// Compiles `ruleSet`. Throws `RuleCompileError` naming the rule when PCRE2 cannot take a regex.
    public init(ruleSet: RuleSet, options: DetectorOptions = DetectorOptions(), cache: DatabaseCache? = nil) throws {
        self.ruleSet = ruleSet
        self.options = options

        var keywordIndex = [String: Int]()
        var keywords = [String]()
        var compiled = [CompiledRule]()
        var patterns = [VectorscanPattern]()
        var fallbacks = [(id: String, reason: String)]()
        // hs_expression_info costs more than loading a cached database: remember its answers.
        let sources = ruleSet.rules.compactMap(\.regex)
        // The stage table also stands for "every regex of this rule set compiled with this PCRE2"
        // (it is written only after they all did): with it, compiling waits for first use.
        let otherRegexes = ruleSet.rules.flatMap { rule in
            (rule.path.map { [$0] } ?? []) + rule.allowlists.flatMap { $0.regexes + $0.paths }
        } + ruleSet.allowlists.flatMap { $0.regexes + $0.paths }
        var stages = cache?.loadStages(for: sources, alsoCovering: otherRegexes) ?? [:]
        let knownStages = stages.count
        let deferred = !sources.isEmpty && knownStages == sources.count
        for rule in ruleSet.rules {
            let regex = try rule.regex.map { try compileRuleRegex($0, ruleID: rule.id, deferred: deferred) }
            let path = try rule.path.map { try compile($0, ruleID: rule.id, field: "path", deferred: deferred) }
            var keywordIDs = [Int]()
            for keyword in rule.keywords where !keyword.isEmpty {
                if let id = keywordIndex[keyword] {
                    keywordIDs.append(id)
                } else {
                    keywordIndex[keyword] = keywords.count
                    keywordIDs.append(keywords.count)
                    keywords.append(keyword)
                }
            }
            let stage: CompiledRule.Stage
            if let source = rule.regex {
                let info = stages[source] ?? StageInfo(Detector.vectorscanStage(for: source))
                stages[source] = info
                switch info.result {
                case .success where Detector.gatesByKeywordsAlone(source, keywords: rule.keywords):
                    stage = .keywordGated
                case .success(let (flags, lookBehind)):
                    stage = .vectorscan(lookBehind: lookBehind)
                    patterns.append(VectorscanPattern(expression: source, id: UInt32(compiled.count), flags: flags,
                                                      relaxed: true))
                case .failure(let reason):
                    stage = .pcre2Only(reason: reason.message)
                    fallbacks.append((rule.id, reason.message))
                }
            } else if let name = rule.analyzer {
                guard let kind = ManifestAnalyzer.Kind(rawValue: name) else {
                    throw RuleCompileError(ruleID: rule.id, field: "analyzer",
                                           reason: "unknown analyzer '\(name)' (known: \(ManifestAnalyzer.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                stage = .analyzer(kind)
            } else {
                stage = .pathOnly
            }
            let checksum: Checksum?
            if let name = rule.checksum {
                guard let known = Checksum(rawValue: name) else {
                    throw RuleCompileError(ruleID: rule.id, field: "checksum",
                                           reason: "unknown checksum '\(name)' (known: \(Checksum.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                checksum = known
            } else {
                checksum = nil
            }
            compiled.append(CompiledRule(
                rule: rule, regex: regex, path: path, stage: stage, keywordIDs: keywordIDs,
                allowlists: try rule.allowlists.map { try CompiledAllowlist($0, ownerID: rule.id, deferred: deferred) }, checksum: checksum))
        }
        // Keywords ride along in the same database as case-insensitive literals, one match each.
        let keywordBase = UInt32(compiled.count)
        for (i, keyword) in keywords.enumerated() {
            patterns.append(VectorscanPattern(
                expression: Detector.literal(keyword), id: keywordBase + UInt32(i),
                flags: UInt32(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH)))
        }
        // Decoding triggers: where an encoded span can start, so the decoder never walks every byte.
        let triggerBase = keywordBase + UInt32(keywords.count)
        for (i, trigger) in SegmentDecoder.Trigger.allCases.enumerated() {
            patterns.append(VectorscanPattern(expression: trigger.expression, id: triggerBase + UInt32(i), flags: 0))
        }
        self.globalAllowlists = try ruleSet.allowlists.map { try CompiledAllowlist($0, ownerID: "global allowlist", deferred: deferred) }
        self.globalPathAllowlist = Detector.combinedPathAllowlist(ruleSet.allowlists, deferred: deferred)
        if stages.count != knownStages { cache?.storeStages(stages, for: sources, alsoCovering: otherRegexes) }
        // hs_expression_info passes some patterns that hs_compile then refuses (e.g. one that can
        // match the empty string): such a rule falls back to PCRE2 alone, like one rejected up front.
        var database: VectorscanDatabase?
        while !patterns.isEmpty {
            if let cached = cache?.load(patterns: patterns) {
                database = cached
                break
            }
            do {
                let built = try VectorscanDatabase.compile(patterns)
                cache?.store(built, patterns: patterns)
                database = built
                break
            } catch let error as VectorscanCompileError {
                let id = error.expression >= 0 && error.expression < patterns.count ? Int(patterns[error.expression].id) : -1
                guard id >= 0 && id < compiled.count else {
                    throw RuleCompileError(ruleID: "keyword", field: "regex", reason: error.message)
                }
                let rule = compiled[id]
                compiled[id] = CompiledRule(rule: rule.rule, regex: rule.regex, path: rule.path,
                                            stage: .pcre2Only(reason: error.message), keywordIDs: rule.keywordIDs,
                                            allowlists: rule.allowlists, checksum: rule.checksum)
                fallbacks.append((rule.rule.id, error.message))
                patterns.remove(at: error.expression)
            }
        }
        self.database = database
        self.rules = compiled
        self.keywords = keywords
        self.pcre2OnlyRules = fallbacks
        wholeInputIndices = compiled.indices.filter {
            switch compiled[$0].stage {
            case .pcre2Only, .keywordGated: return true
            default: return false
            }
        }
        pathOnlyIndices = compiled.indices.filter { if case .pathOnly = compiled[$0].stage { return true } else { return false } }
        analyzerIndices = compiled.indices.filter { if case .analyzer = compiled[$0].stage { return true } else { return false } }
    }

    /// See `globalPathAllowlist`. Only the global lists with paths alone and no rule targets count
    /// (what `Scanner.isPathAllowlisted` asks); each pattern becomes a non-capturing group, whose
    /// inline flags such as `(?i)` stay inside it.
    static func combinedPathAllowlist(_ lists: [Allowlist], deferred: Bool) -> PCRE2Regex? {
        let paths = lists.filter { $0.targetRules.isEmpty && $0.regexes.isEmpty && $0.stopwords.isEmpty && $0.commits.isEmpty }
            .flatMap(\.paths)
        guard !paths.isEmpty else { return nil }
        let unsafe = ["\\1", "\\2", "\\3", "\\4", "\\5", "\\6", "\\7", "\\8", "\\9", "\\g", "\\k", "\\Q",
                      "(?P=", "(?P>", "(?R", "(?&", "(?+", "(?-", "(?0", "(?1", "(?2", "(?3", "(?4", "(?5", "(?6", "(?7", "(?8", "(?9"]
        guard !paths.contains(where: { p in unsafe.contains { p.contains($0) } }) else { return nil }
        let pattern = paths.map { "(?:\($0))" }.joined(separator: "|")
        return deferred ? PCRE2Regex(deferred: pattern) : try? PCRE2Regex(pattern)
    }

    /// A scanner for one thread.
    public func makeScanner() -> Scanner { Scanner(detector: self) }

    /// The Vectorscan library version, part of the cache key.
    public static var engineVersion: String { Vectorscan.version }

    /// Flags and look-behind for a rule regex, or why Vectorscan cannot take it.
    ///
    /// Vectorscan only finds candidates (PCRE2 confirms them), so its copy of the regex may match
    /// more: bounded repeats like `{20,12000}` become `{20,}`, which compiles an order of magnitude
    /// faster and scans as fast. The look-behind still comes from the exact regex's widest match.
    static func vectorscanStage(for source: String) -> Result<(String, UInt32, Int), RuleStageError> {
        let relaxed = relaxingBoundedRepeats(source)
        for flags in [UInt32(0), UInt32(HS_FLAG_PREFILTER)] {
            guard case .success(let relaxedInfo) = Vectorscan.info(relaxed, flags: flags) else { continue }
            var maxWidth = relaxedInfo.maxWidth
            if relaxed != source, case .success(let exact) = Vectorscan.info(source, flags: flags) { maxWidth = exact.maxWidth }
            let lookBehind = maxWidth.map { min($0, maxLookBehind) } ?? unboundedLookBehind
            return .success((relaxed, flags, lookBehind))
        }
        if case .failure(let error) = Vectorscan.info(source, flags: 0) {
            return .failure(RuleStageError(message: error.message))
        }
        return .failure(RuleStageError(message: "rejected by Vectorscan"))
    }

    /// Whether a rule is better confirmed by PCRE2 over the whole input, only where one of its
    /// keywords is, than by Vectorscan: its regex holds no literal of 3+ bytes that every match
    /// contains (see `RequiredLiteral`), while each of its keywords is 3+ bytes. Same findings
    /// either way (keywords gate both paths); only the cost differs.
    static func gatesByKeywordsAlone(_ source: String, keywords: [String]) -> Bool {
        guard !keywords.isEmpty, keywords.allSatisfy({ $0.utf8.count >= minimumFactor }),
              let factor = RequiredLiteral.longest(in: source) else { return false }
        return factor < minimumFactor
    }

    static let minimumFactor = 3

    /// Bump when `relaxingBoundedRepeats` changes what it produces: cached databases are keyed by
    /// the rules' own regexes and this number.
    static let relaxingVersion = 1

    /// `source` with every bounded repeat `{m,n}` (n ≥ 10) outside character classes and escapes
    /// turned into `{m,}`.
    static func relaxingBoundedRepeats(_ source: String) -> String {
        let chars = Array(source.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var inClass = false
        while i < chars.count {
            let c = chars[i]
            if c == "\\" && i + 1 < chars.count {
                out.append(c)
                out.append(chars[i + 1])
                i += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
                out.append(c)
                i += 1
                continue
            }
            if c == "[" {
                inClass = true
                out.append(c)
                // A `]` right after `[` or `[^` is a literal member.
                if i + 1 < chars.count && chars[i + 1] == "^" { out.append(chars[i + 1]); i += 1 }
                if i + 1 < chars.count && chars[i + 1] == "]" { out.append(chars[i + 1]); i += 1 }
                i += 1
                continue
            }
            if c == "{" {
                var j = i + 1
                var low = ""
                while j < chars.count, chars[j].properties.numericType != nil, chars[j].isASCII { low.unicodeScalars.append(chars[j]); j += 1 }
                if !low.isEmpty, j < chars.count, chars[j] == "," {
                    j += 1
                    var high = ""
                    while j < chars.count, chars[j].properties.numericType != nil, chars[j].isASCII { high.unicodeScalars.append(chars[j]); j += 1 }
                    if j < chars.count, chars[j] == "}", let n = Int(high), n >= 10 {
                        out.append(contentsOf: "{\(low),}".unicodeScalars)
                        i = j + 1
                        continue
                    }
                }
            }
            out.append(c)
            i += 1
        }
        return String(out)
    }

    /// A Vectorscan expression matching `text` literally.
    static func literal(_ text: String) -> String {
        // Byte arithmetic, not Character properties and String(format:): this runs for every
        // keyword on every start, pre-commit runs included.
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count * 2)
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.append(b)
            default:
                out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What `vectorscanStage` decided for one regex: flags and look-behind, or why Vectorscan can't take it.
struct StageInfo: Sendable {
    var result: Result<(UInt32, Int), RuleStageError>

    init(_ stage: Result<(String, UInt32, Int), RuleStageError>) {
        result = stage.map { ($0.1, $0.2) }
    }

    init(result: Result<(UInt32, Int), RuleStageError>) { self.result = result }
}

/// Why Vectorscan cannot take a rule's regex.
public struct RuleStageError: Error, Sendable {
    public var message: String
}

import Foundation

import Rules

/// A rule's regex the engine could not take, named by rule id.
public struct RuleCompileError: Error, CustomStringConvertible, Sendable {
    public var ruleID: String
    public var field: String
    public var reason: String

    public var description: String { "rule \(ruleID): \(field) cannot be compiled: \(reason)" }
}

/// An allowlist with its regexes compiled.
struct CompiledAllowlist: Sendable {
    let condition: Allowlist.Condition
    let target: Allowlist.RegexTarget
    let regexes: [PCRE2Regex]
    let paths: [PCRE2Regex]
    let stopwords: [String]
    let commits: Set<String>
    let targetRules: Set<String>

    /// `deferred`: the regexes are known to compile (see `compile(_:ruleID:field:deferred:)`).
    init(_ list: Allowlist, ownerID: String, deferred: Bool = false) throws {
        condition = list.condition
        target = list.regexTarget
        regexes = try list.regexes.map { try compile($0, ruleID: ownerID, field: "allowlist regex", deferred: deferred) }
        paths = try list.paths.map { try compile($0, ruleID: ownerID, field: "allowlist path", deferred: deferred) }
        stopwords = list.stopwords
        commits = Set(list.commits)
        targetRules = Set(list.targetRules)
    }

    /// Whether only `paths` conditions exist, so a whole file can be skipped before scanning.
    var isPathOnly: Bool { regexes.isEmpty && stopwords.isEmpty && commits.isEmpty && !paths.isEmpty }

    /// gitleaks semantics: OR = any condition allows; AND = every condition present must allow.
    /// A nil `path` (unknown) meets no path condition; an empty `commit` no commit condition.
    func allows(secret: String, match: String, line: String, path: String?, commit: String, matcher: PCRE2Matcher) -> Bool {
        var results = [Bool]()
        if !commits.isEmpty { results.append(!commit.isEmpty && commits.contains(commit)) }
        if !paths.isEmpty { results.append(path.map { path in paths.contains { matcher.isMatch($0, path) } } ?? false) }
        if !regexes.isEmpty {
            let subject: String
            switch target {
            case .secret: subject = secret
            case .match: subject = match
            case .line: subject = line
            }
            results.append(regexes.contains { matcher.isMatch($0, subject) })
        }
        if !stopwords.isEmpty {
            let lowered = secret.lowercased()
            results.append(stopwords.contains { lowered.contains($0) })
        }
        guard !results.isEmpty else { return false }
        return condition == .and ? results.allSatisfy { $0 } : results.contains(true)
    }

    /// For path-only evaluation before the content is read.
    func allowsPath(_ path: String, matcher: PCRE2Matcher) -> Bool {
        isPathOnly && paths.contains { matcher.isMatch($0, path) }
    }
}

/// `deferred`: the pattern compiled with this PCRE2 in an earlier run (the rule set's stage table
/// exists), so compiling it waits for its first use.
func compile(_ pattern: String, ruleID: String, field: String, deferred: Bool = false,
             lazyPrefix: LazyPrefix? = nil) throws -> PCRE2Regex {
    if deferred { return PCRE2Regex(deferred: pattern, lazyPrefix: lazyPrefix) }
    do {
        return try PCRE2Regex(pattern, lazyPrefix: lazyPrefix)
    } catch let error as PCRE2CompileError {
        throw RuleCompileError(ruleID: ruleID, field: field, reason: "\(error.message) at offset \(error.offset)")
    }
}

/// A rule's `regex` for confirming candidates: compiled as `compile` does, then, when it starts
/// with a lazy class prefix (`LazyPrefix`), searched for without it.
func compileRuleRegex(_ pattern: String, ruleID: String, deferred: Bool) throws -> PCRE2Regex {
    guard let (prefix, rest) = LazyPrefix.split(pattern) else {
        return try compile(pattern, ruleID: ruleID, field: "regex", deferred: deferred)
    }
    // The rule's own regex is what must compile (an error names an offset in it).
    if !deferred { _ = try compile(pattern, ruleID: ruleID, field: "regex") }
    return try compile(rest, ruleID: ruleID, field: "regex", deferred: deferred, lazyPrefix: prefix)
}

/// A rule ready to confirm candidates.
struct CompiledRule: Sendable {
    /// How the rule gets candidates.
    enum Stage: Sendable {
        /// Vectorscan finds candidate ends; PCRE2 confirms on a window reaching `lookBehind` bytes back.
        case vectorscan(lookBehind: Int)
        /// Vectorscan rejected the pattern: PCRE2 runs over the whole input (after the keyword gate).
        case pcre2Only(reason: String)
        /// The regex has no literal Vectorscan could key on (it would run at every position), but
        /// the rule's keywords are selective: PCRE2 runs over the whole input only when one is there.
        case keywordGated
        /// No regex: the rule reports files whose path matches.
        case pathOnly
        /// A structural manifest check instead of a regex.
        case analyzer(ManifestAnalyzer.Kind)
    }

    let rule: Rule
    let regex: PCRE2Regex?
    let path: PCRE2Regex?
    let stage: Stage
    let keywordIDs: [Int]
    let allowlists: [CompiledAllowlist]
    let checksum: Checksum?
}

import Foundation
import TOMLKit

/// A configuration problem, with the file (and rule, when known) it concerns.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var ruleID: String?
    public var reason: String

    public init(file: String, ruleID: String? = nil, reason: String) {
        self.file = file
        self.ruleID = ruleID
        self.reason = reason
    }

    public var description: String {
        if let ruleID { return "\(file): rule \(ruleID): \(reason)" }
        return "\(file): \(reason)"
    }
}

/// Loads gitleaks-schema TOML configurations, following `[extend]` to the built-in rules or a base file.
public enum ConfigLoader {
    /// Maximum `[extend]` depth, as in gitleaks.
    public static let maxExtendDepth = 2

    /// The embedded default rule set.
    public static func builtIn() throws -> RuleSet {
        try parse(DefaultRules.toml, source: "built-in")
    }

    /// Loads the file at `path` and resolves its `[extend]` chain.
    public static func load(path: String) throws -> RuleSet {
        try load(path: path, depth: 0)
    }

    /// Parses TOML text (no file system access unless it extends a path).
    public static func parse(_ text: String, source: String) throws -> RuleSet {
        try parse(text, source: source, depth: 0)
    }

    /// Chooses the configuration the way the CLI documents: explicit path, then `SEALANT_CONFIG`,
    /// then `.sealant.toml` / `.gitleaks.toml` at the scan root, then the built-in rules.
    /// `builtInCache`: a directory where the built-in rules are kept decoded (see `BuiltInRulesCache`);
    /// only for scanning, as the cached copy has no examples.
    public static func resolve(explicitPath: String?, scanRoot: String?, environment: [String: String],
                               builtInCache: String? = nil) throws -> RuleSet {
        if let explicitPath { return try load(path: explicitPath) }
        if let env = environment["SEALANT_CONFIG"], !env.isEmpty { return try load(path: env) }
        if let scanRoot {
            var isDir: ObjCBool = false
            let root = FileManager.default.fileExists(atPath: scanRoot, isDirectory: &isDir) && isDir.boolValue
                ? scanRoot : (scanRoot as NSString).deletingLastPathComponent
            for name in [".sealant.toml", ".gitleaks.toml"] {
                let candidate = (root.isEmpty ? "." : root) + "/" + name
                if FileManager.default.fileExists(atPath: candidate) { return try load(path: candidate) }
            }
        }
        if let builtInCache { return try BuiltInRulesCache(directory: builtInCache).ruleSet() }
        return try builtIn()
    }

    // MARK: - Implementation

    private static func load(path: String, depth: Int) throws -> RuleSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, reason: "cannot read configuration file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, reason: "configuration is not valid UTF-8")
        }
        return try parse(text, source: path, depth: depth)
    }

    private static func parse(_ text: String, source: String, depth: Int) throws -> RuleSet {
        let raw: RawConfig
        do {
            raw = try TOMLDecoder().decode(RawConfig.self, from: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: source, reason: "invalid TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        } catch let error as DecodingError {
            throw ConfigError(file: source, reason: "invalid configuration: \(describe(error))")
        }
        var own = try raw.ruleSet(source: source)

        guard let extend = raw.extend, extend.useDefault == true || extend.path != nil else {
            try requireRegexOrPath(own, source: source)
            return own
        }
        if extend.useDefault == true && extend.path != nil {
            throw ConfigError(file: source, reason: "[extend] may set useDefault or path, not both")
        }
        if depth >= maxExtendDepth {
            throw ConfigError(file: source, reason: "[extend] chain deeper than \(maxExtendDepth)")
        }
        var base: RuleSet
        if let path = extend.path {
            base = try load(path: path, depth: depth + 1)
        } else {
            base = try builtIn()
        }
        let disabled = Set(extend.disabledRules ?? [])
        base.rules.removeAll { disabled.contains($0.id) }
        own = merge(base: base, override: own)
        // Checked after merging: an override of a base rule may set only some attributes (e.g. allowlists).
        try requireRegexOrPath(own, source: source)
        return own
    }

    /// Every rule needs a regex, a path, or both (or an analyzer). Base rules were checked when their file loaded,
    /// so a rule failing here was defined in `source`.
    private static func requireRegexOrPath(_ set: RuleSet, source: String) throws {
        if let rule = set.rules.first(where: { $0.regex == nil && $0.path == nil && $0.analyzer == nil }) {
            throw ConfigError(file: source, ruleID: rule.id, reason: "a rule needs a regex, a path, or both")
        }
    }

    /// A rule redefined by id replaces the base rule's attributes that it sets; allowlists are appended.
    private static func merge(base: RuleSet, override: RuleSet) -> RuleSet {
        var rules = base.rules
        var index = [String: Int]()
        for (i, rule) in rules.enumerated() { index[rule.id] = i }
        for rule in override.rules {
            if let i = index[rule.id] {
                var merged = rules[i]
                if !rule.description.isEmpty { merged.description = rule.description }
                if rule.regex != nil { merged.regex = rule.regex }
                if rule.secretGroup != nil { merged.secretGroup = rule.secretGroup }
                if rule.entropy != nil { merged.entropy = rule.entropy }
                if !rule.keywords.isEmpty { merged.keywords = rule.keywords }
                if rule.path != nil { merged.path = rule.path }
                if rule.analyzer != nil { merged.analyzer = rule.analyzer }
                if !rule.tags.isEmpty { merged.tags = rule.tags }
                if rule.checksum != nil { merged.checksum = rule.checksum }
                if rule.skipReport { merged.skipReport = true }
                if !rule.examples.isEmpty { merged.examples = rule.examples }
                if !rule.negativeExamples.isEmpty { merged.negativeExamples = rule.negativeExamples }
                if !rule.sampleSecrets.isEmpty { merged.sampleSecrets = rule.sampleSecrets }
                if rule.sampleKey != nil { merged.sampleKey = rule.sampleKey }
                if rule.samplePath != nil { merged.samplePath = rule.samplePath }
                merged.allowlists += rule.allowlists
                rules[i] = merged
            } else {
                index[rule.id] = rules.count
                rules.append(rule)
            }
        }
        return RuleSet(title: override.title.isEmpty ? base.title : override.title, rules: rules,
                       allowlists: base.allowlists + override.allowlists, source: override.source)
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
             .dataCorrupted(let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

// MARK: - Raw TOML shapes

/// A number that may be written as a TOML integer or float.
private struct FlexibleDouble: Decodable {
    var value: Double
    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let d = try? container.decode(Double.self) { value = d; return }
        value = Double(try container.decode(Int.self))
    }
}

private struct RawAllowlist: Decodable {
    var description: String?
    var condition: String?
    var regexTarget: String?
    var regexes: [String]?
    var paths: [String]?
    var stopwords: [String]?
    var commits: [String]?
    var targetRules: [String]?

    func allowlist(source: String, ruleID: String?) throws -> Allowlist {
        let cond: Allowlist.Condition
        switch (condition ?? "OR").uppercased() {
        case "OR", "": cond = .or
        case "AND", "&&": cond = .and
        default: throw ConfigError(file: source, ruleID: ruleID, reason: "allowlist condition must be AND or OR, not \(condition ?? "")")
        }
        let target: Allowlist.RegexTarget
        switch (regexTarget ?? "secret").lowercased() {
        case "secret", "": target = .secret
        case "match": target = .match
        case "line": target = .line
        default: throw ConfigError(file: source, ruleID: ruleID, reason: "allowlist regexTarget must be secret, match or line, not \(regexTarget ?? "")")
        }
        let list = Allowlist(description: description ?? "", condition: cond, regexTarget: target,
                             regexes: regexes ?? [], paths: paths ?? [], stopwords: stopwords ?? [],
                             commits: commits ?? [], targetRules: targetRules ?? [])
        if list.isEmpty {
            throw ConfigError(file: source, ruleID: ruleID, reason: "allowlist \(description.map { "'\($0)' " } ?? "")has no commits, paths, regexes or stopwords")
        }
        return list
    }
}

private struct RawRule: Decodable {
    var id: String?
    var description: String?
    var regex: String?
    var secretGroup: Int?
    var entropy: FlexibleDouble?
    var keywords: [String]?
    var path: String?
    var tags: [String]?
    var allowlists: [RawAllowlist]?
    var allowlist: RawAllowlist?
    var skipReport: Bool?
    var checksum: String?
    var examples: [String]?
    var negativeExamples: [String]?
    var sampleSecrets: [String]?
    var sampleKey: String?
    var analyzer: String?
    var samplePath: String?

    func rule(source: String, position: Int) throws -> Rule {
        guard let id, !id.isEmpty else {
            throw ConfigError(file: source, reason: "rule #\(position + 1) has no id")
        }
        if regex != nil && analyzer != nil {
            throw ConfigError(file: source, ruleID: id, reason: "a rule has either a regex or an analyzer, not both")
        }
        if allowlist != nil && allowlists != nil {
            throw ConfigError(file: source, ruleID: id, reason: "use [[rules.allowlists]] or the older [rules.allowlist], not both")
        }
        if let secretGroup, secretGroup < 0 {
            throw ConfigError(file: source, ruleID: id, reason: "secretGroup must not be negative")
        }
        let lists = try (allowlists ?? allowlist.map { [$0] } ?? []).map { try $0.allowlist(source: source, ruleID: id) }
        return Rule(id: id, description: description ?? "", regex: regex, secretGroup: secretGroup,
                    entropy: entropy?.value, keywords: keywords ?? [], path: path, tags: tags ?? [],
                    allowlists: lists, skipReport: skipReport ?? false, checksum: checksum,
                    examples: examples ?? [], negativeExamples: negativeExamples ?? [],
                    sampleSecrets: sampleSecrets ?? [], sampleKey: sampleKey, analyzer: analyzer, samplePath: samplePath)
    }
}

private struct RawExtend: Decodable {
    var useDefault: Bool?
    var path: String?
    var disabledRules: [String]?
}

private struct RawConfig: Decodable {
    var title: String?
    var extend: RawExtend?
    var rules: [RawRule]?
    var allowlists: [RawAllowlist]?
    var allowlist: RawAllowlist?

    func ruleSet(source: String) throws -> RuleSet {
        if allowlist != nil && allowlists != nil {
            throw ConfigError(file: source, reason: "use [[allowlists]] or the older [allowlist], not both")
        }
        var seen = Set<String>()
        var rules = [Rule]()
        for (i, raw) in (self.rules ?? []).enumerated() {
            let rule = try raw.rule(source: source, position: i)
            if !seen.insert(rule.id).inserted {
                throw ConfigError(file: source, ruleID: rule.id, reason: "duplicate rule id")
            }
            rules.append(rule)
        }
        let lists = try (allowlists ?? allowlist.map { [$0] } ?? []).map { try $0.allowlist(source: source, ruleID: nil) }
        return RuleSet(title: title ?? "", rules: rules, allowlists: lists, source: source)
    }
}

/// One detection rule in the gitleaks configuration schema, plus Sealant's own sample keys.
public struct Rule: Sendable, Equatable, Codable {
    /// Unique id, e.g. `github-pat`; reused ids in an extending config override the base rule.
    public var id: String
    public var description: String
    /// Regular expression (RE2/PCRE2 common syntax). `nil` for a path-only rule.
    public var regex: String?
    /// Capture group that holds the secret; `nil` means first non-empty group, else the whole match.
    public var secretGroup: Int?
    /// Minimum Shannon entropy of the secret; a finding at or below it is dropped.
    public var entropy: Double?
    /// Lower-cased keywords; when non-empty the rule runs only on input containing one of them.
    public var keywords: [String]
    /// Path regex: alone it makes a path-only rule, with `regex` both must match.
    public var path: String?
    public var tags: [String]
    public var allowlists: [Allowlist]
    /// A rule that only serves as a component of a composite rule.
    public var skipReport: Bool
    /// Name of a checksum validator (`Checksum`) the secret must pass, e.g. `github`.
    public var checksum: String?
    /// Lines that must produce a finding (checked by `sealant rules check`).
    public var examples: [String]
    /// Lines that must not produce a finding.
    public var negativeExamples: [String]
    /// Bare secrets the checker embeds in every common context (JSON, YAML, XML, .env, URL, CRLF ...)
    /// under `sampleKey`; each must be found and extracted exactly.
    public var sampleSecrets: [String]
    /// The identifier used when embedding `sampleSecrets` (e.g. `aws_secret_access_key`).
    public var sampleKey: String?
    /// A structural check run instead of `regex` (Sealant's own key), e.g. `kubernetes-secret`:
    /// it reads manifests and reports values by meaning rather than by shape.
    public var analyzer: String?
    /// The file path `sealant rules check` gives samples (default `sample.txt`); rules with a `path`
    /// need one it matches.
    public var samplePath: String?

    public init(
        id: String, description: String = "", regex: String? = nil, secretGroup: Int? = nil,
        entropy: Double? = nil, keywords: [String] = [], path: String? = nil, tags: [String] = [],
        allowlists: [Allowlist] = [], skipReport: Bool = false, checksum: String? = nil,
        examples: [String] = [], negativeExamples: [String] = [], sampleSecrets: [String] = [],
        sampleKey: String? = nil, analyzer: String? = nil, samplePath: String? = nil
    ) {
        self.id = id
        self.description = description
        self.regex = regex
        self.secretGroup = secretGroup
        self.entropy = entropy
        self.keywords = keywords.map { $0.lowercased() }
        self.path = path
        self.tags = tags
        self.allowlists = allowlists
        self.skipReport = skipReport
        self.checksum = checksum
        self.examples = examples
        self.negativeExamples = negativeExamples
        self.sampleSecrets = sampleSecrets
        self.sampleKey = sampleKey
        self.analyzer = analyzer
        self.samplePath = samplePath
    }
}

/// A set of conditions under which a finding is suppressed (gitleaks `[[allowlists]]`).
public struct Allowlist: Sendable, Equatable, Codable {
    /// How the conditions of one allowlist combine.
    public enum Condition: String, Sendable, Codable { case or = "OR", and = "AND" }
    /// What `regexes` are matched against.
    public enum RegexTarget: String, Sendable, Codable { case secret, match, line }

    public var description: String
    public var condition: Condition
    public var regexTarget: RegexTarget
    public var regexes: [String]
    public var paths: [String]
    /// Case-insensitive substrings of the secret.
    public var stopwords: [String]
    public var commits: [String]
    /// For a global allowlist: apply only to these rule ids (empty = all rules).
    public var targetRules: [String]

    public init(
        description: String = "", condition: Condition = .or, regexTarget: RegexTarget = .secret,
        regexes: [String] = [], paths: [String] = [], stopwords: [String] = [], commits: [String] = [],
        targetRules: [String] = []
    ) {
        self.description = description
        self.condition = condition
        self.regexTarget = regexTarget
        self.regexes = regexes
        self.paths = paths
        self.stopwords = stopwords.map { $0.lowercased() }
        self.commits = commits
        self.targetRules = targetRules
    }

    /// True when the allowlist has no condition at all (such an entry is rejected at load time).
    public var isEmpty: Bool { regexes.isEmpty && paths.isEmpty && stopwords.isEmpty && commits.isEmpty }
}

/// A loaded, fully extended configuration: the rules to run and the global allowlists.
public struct RuleSet: Sendable, Equatable, Codable {
    public var title: String
    public var rules: [Rule]
    public var allowlists: [Allowlist]
    /// Where it came from (a path, or `built-in`), for messages.
    public var source: String

    public init(title: String = "", rules: [Rule], allowlists: [Allowlist] = [], source: String = "built-in") {
        self.title = title
        self.rules = rules
        self.allowlists = allowlists
        self.source = source
    }

    /// The rule with this id, if any.
    public func rule(id: String) -> Rule? { rules.first { $0.id == id } }
}

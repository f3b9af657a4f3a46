/// Where a scanned unit of bytes came from: a file, standard input, or a git object.
public struct Provenance: Sendable, Hashable, Codable {
    /// Path shown to the user (relative to the scan root where possible, `/` separators).
    public var file: String
    /// The link target's path when `file` was reached through a symlink.
    public var symlinkFile: String
    public var commit: String
    public var author: String
    public var email: String
    /// Author date, RFC 3339 UTC.
    public var date: String
    public var message: String
    /// A web link to the finding, when a platform is known.
    public var link: String
    /// The commit's position in the history walk (parents first); orders same-second commits.
    public var order: Int = 0

    public init(file: String, symlinkFile: String = "", commit: String = "", author: String = "",
                email: String = "", date: String = "", message: String = "", link: String = "") {
        self.file = file
        self.symlinkFile = symlinkFile
        self.commit = commit
        self.author = author
        self.email = email
        self.date = date
        self.message = message
        self.link = link
    }
}

/// One detected credential, with gitleaks-compatible fields.
public struct Finding: Sendable, Hashable, Codable {
    public var ruleID: String
    public var description: String
    /// 1-based line numbers and columns of the match in the original (encoded) text.
    public var startLine: Int
    public var endLine: Int
    public var startColumn: Int
    public var endColumn: Int
    /// The full regex match.
    public var match: String
    /// The secret part of the match (capture group), the value reports redact.
    public var secret: String
    /// The whole line(s) holding the match; not serialised in reports.
    public var line: String
    public var provenance: Provenance
    public var entropy: Double
    public var tags: [String]
    /// Content-based id: rule + hash of the secret + path; see `Fingerprint`.
    public var fingerprint: String
    /// Other commits/paths where the same blob appears (git `--all-occurrences`).
    public var otherOccurrences: [Provenance]

    public init(ruleID: String, description: String, startLine: Int, endLine: Int, startColumn: Int,
                endColumn: Int, match: String, secret: String, line: String = "", provenance: Provenance,
                entropy: Double, tags: [String] = [], fingerprint: String = "", otherOccurrences: [Provenance] = []) {
        self.ruleID = ruleID
        self.description = description
        self.startLine = startLine
        self.endLine = endLine
        self.startColumn = startColumn
        self.endColumn = endColumn
        self.match = match
        self.secret = secret
        self.line = line
        self.provenance = provenance
        self.entropy = entropy
        self.tags = tags
        self.fingerprint = fingerprint
        self.otherOccurrences = otherOccurrences
    }

    /// Convenience accessors for the provenance fields reports print.
    public var file: String { provenance.file }
    public var commit: String { provenance.commit }

    /// gitleaks' position-based fingerprint: `commit:file:rule:line`, or `file:rule:line` without a commit.
    public var gitleaksFingerprint: String {
        let base = "\(provenance.file):\(ruleID):\(startLine)"
        return provenance.commit.isEmpty ? base : "\(provenance.commit):\(base)"
    }
}

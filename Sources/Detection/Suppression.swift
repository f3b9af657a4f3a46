import Foundation

/// Fingerprints listed in `.sealantignore` / `.gitleaksignore` files. Accepts Sealant's content
/// fingerprints (`file:rule:hash`) and gitleaks' position forms (`commit:file:rule:line` and
/// `file:rule:line`; the latter also matches that file/rule/line in every commit).
public struct IgnoreList: Sendable {
    public private(set) var entries = Set<String>()

    public init(entries: [String] = []) {
        for entry in entries { add(line: entry) }
    }

    /// Loads an ignore file; a missing file is an empty list.
    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileWalkError(path: path, reason: "cannot read ignore file")
        }
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) { add(line: String(line)) }
    }

    private mutating func add(line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return }
        entries.insert(trimmed.replacingOccurrences(of: "\\", with: "/"))
    }

    public mutating func merge(_ other: IgnoreList) { entries.formUnion(other.entries) }

    public var isEmpty: Bool { entries.isEmpty }

    /// Whether `finding` is listed in any accepted form.
    public func ignores(_ finding: Finding) -> Bool {
        if entries.contains(finding.fingerprint) || entries.contains(finding.gitleaksFingerprint) { return true }
        if !finding.commit.isEmpty {
            return entries.contains("\(finding.file):\(finding.ruleID):\(finding.startLine)")
        }
        return false
    }
}

/// Findings recorded in an earlier report; later scans report only what is new. Matching is by
/// content (rule, file and secret hash), so moved lines and squash-merges don't resurrect a
/// finding, while a different secret on the same line is still reported. Entries whose secret was
/// redacted fall back to their fingerprint, then to gitleaks' position fingerprint.
public struct Baseline: Sendable {
    private var contentKeys = Set<String>()
    private var positionKeys = Set<String>()

    public init(findings: [Finding]) {
        for f in findings {
            if !f.secret.isEmpty && f.secret != "REDACTED" && !f.secret.hasSuffix("...") {
                contentKeys.insert(Fingerprint.content(file: f.file, ruleID: f.ruleID, secret: f.secret))
            } else if Baseline.isContentFingerprint(f.fingerprint, ruleID: f.ruleID) {
                contentKeys.insert(f.fingerprint)
            } else {
                positionKeys.insert(f.gitleaksFingerprint)
            }
        }
    }

    public var count: Int { contentKeys.count + positionKeys.count }

    /// Sealant's `file:rule:hash` form (as opposed to gitleaks' position forms).
    static func isContentFingerprint(_ fingerprint: String, ruleID: String) -> Bool {
        let suffix = fingerprint.split(separator: ":").last.map(String.init) ?? ""
        return suffix.count == 16 && suffix.allSatisfy(\.isHexDigit) && fingerprint.contains(":\(ruleID):")
    }

    public func contains(_ finding: Finding) -> Bool {
        contentKeys.contains(finding.fingerprint) || positionKeys.contains(finding.gitleaksFingerprint)
    }
}

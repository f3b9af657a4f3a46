import Detection

/// The gitleaks 8.x JSON report: an array of objects with gitleaks' keys in gitleaks' order,
/// indented by one space, `[]` when empty, newline-terminated.
enum GitleaksJSON {
    static func render(_ findings: [Finding]) -> String {
        JSONValue.array(findings.map(object)).rendered(indent: " ") + "\n"
    }

    /// One finding as gitleaks marshals its `report.Finding` (`Link` is `omitempty`; `Line` and
    /// `Fragment` are not written).
    static func object(_ f: Finding) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("RuleID", .string(f.ruleID)),
            ("Description", .string(f.description)),
            ("StartLine", .int(f.startLine)),
            ("EndLine", .int(f.endLine)),
            ("StartColumn", .int(f.startColumn)),
            ("EndColumn", .int(f.endColumn)),
            ("Match", .string(f.match)),
            ("Secret", .string(f.secret)),
            ("File", .string(f.provenance.file)),
            ("SymlinkFile", .string(f.provenance.symlinkFile)),
            ("Commit", .string(f.provenance.commit)),
        ]
        if !f.provenance.link.isEmpty { members.append(("Link", .string(f.provenance.link))) }
        members += [
            ("Entropy", .number(GoFloat.float32(f.entropy))),
            ("Author", .string(f.provenance.author)),
            ("Email", .string(f.provenance.email)),
            ("Date", .string(f.provenance.date)),
            ("Message", .string(f.provenance.message)),
            ("Tags", .array(f.tags.map(JSONValue.string))),
            ("Fingerprint", .string(f.fingerprint)),
        ]
        return .object(members)
    }
}

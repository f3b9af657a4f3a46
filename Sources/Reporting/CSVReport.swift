import Detection

/// gitleaks' CSV report: its column order, Go `encoding/csv` quoting (quote a field holding a
/// comma, quote, CR or LF or starting with white space; double inner quotes), LF line ends,
/// tags joined by spaces, and a trailing `Link` column only when findings carry links (as gitleaks
/// does). Unlike gitleaks, the header is written even when there are no findings, so the file is
/// always a parseable table.
enum CSVReport {
    static let header = ["RuleID", "Commit", "File", "SymlinkFile", "Secret", "Match", "StartLine",
                         "EndLine", "StartColumn", "EndColumn", "Author", "Message", "Date", "Email",
                         "Fingerprint", "Tags"]

    static func render(_ findings: [Finding]) -> String {
        let withLinks = findings.contains { !$0.provenance.link.isEmpty }
        var out = record(withLinks ? header + ["Link"] : header)
        for f in findings {
            let p = f.provenance
            var fields = [f.ruleID, p.commit, p.file, p.symlinkFile, f.secret, f.match,
                          String(f.startLine), String(f.endLine), String(f.startColumn), String(f.endColumn),
                          p.author, p.message, p.date, p.email, f.fingerprint, f.tags.joined(separator: " ")]
            if withLinks { fields.append(p.link) }
            out += record(fields)
        }
        return out
    }

    private static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\n"
    }

    static func field(_ value: String) -> String {
        guard needsQuotes(value) else { return value }
        return "\"" + value.replacingAll("\"", with: "\"\"") + "\""
    }

    private static func needsQuotes(_ value: String) -> Bool {
        if value.isEmpty { return false }
        if value == "\\." { return true }
        if value.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) {
            return true
        }
        return value.unicodeScalars.first?.properties.isWhitespace ?? false
    }
}

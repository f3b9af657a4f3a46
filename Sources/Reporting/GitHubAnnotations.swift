import Detection

/// GitHub Actions workflow commands, one `::error` line per finding, which the runner turns into
/// annotations on the pull request. Properties and message are escaped as `@actions/core` does.
enum GitHubAnnotations {
    static func render(_ findings: [Finding]) -> String {
        findings.map(command).joined()
    }

    static func command(_ f: Finding) -> String {
        var properties: [(String, String)] = []
        if !f.provenance.file.isEmpty { properties.append(("file", f.provenance.file)) }
        if f.startLine > 0 {
            properties.append(("line", String(f.startLine)))
            properties.append(("endLine", String(max(f.endLine, f.startLine))))
            // GitHub only honours columns on a single-line annotation.
            if f.endLine <= f.startLine && f.startColumn > 0 {
                properties.append(("col", String(f.startColumn)))
                properties.append(("endColumn", String(max(f.endColumn, f.startColumn))))
            }
        }
        properties.append(("title", f.ruleID))
        let head = properties.map { "\($0.0)=\(escapeProperty($0.1))" }.joined(separator: ",")
        return "::error \(head)::\(escapeData(message(f)))\n"
    }

    /// The annotation body: what was found and how to recognise it, never more of the secret
    /// than the redaction setting leaves.
    static func message(_ f: Finding) -> String {
        let what = f.description.isEmpty ? "Secret detected by rule \(f.ruleID)" : f.description
        var details = ["secret: \(f.secret.isEmpty ? f.match : f.secret)"]
        if !f.provenance.commit.isEmpty { details.append("commit: \(f.provenance.commit)") }
        if !f.fingerprint.isEmpty { details.append("fingerprint: \(f.fingerprint)") }
        return "\(what) (\(details.joined(separator: "; ")))"
    }

    /// `%`, CR and LF, as `escapeData` in `@actions/core`.
    static func escapeData(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `escapeData` plus `:` and `,`, as `escapeProperty` in `@actions/core`.
    static func escapeProperty(_ s: String) -> String {
        escapeData(s).replacingAll(":", with: "%3A").replacingAll(",", with: "%2C")
    }
}

import Detection

/// JUnit XML in gitleaks' layout: one `<testsuite>` named after the tool, one failed
/// `<testcase>` per finding whose `<failure>` body is the finding's gitleaks JSON (tab-indented).
/// gitleaks' empty `time=""` attributes are left out: JUnit readers expect a number there.
enum JUnitReport {
    static func render(_ findings: [Finding], options: ReportOptions) -> String {
        let e = XMLEscaping.escape
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        out += "\t<testsuite failures=\"\(findings.count)\" name=\"\(e(options.toolName))\" tests=\"\(findings.count)\">"
        if findings.isEmpty {
            out += "</testsuite>\n"
        } else {
            out += "\n"
            for f in findings {
                let summary = message(f)
                out += "\t\t<testcase classname=\"\(e(f.description))\" file=\"\(e(f.provenance.file))\" name=\"\(e(summary))\">\n"
                out += "\t\t\t<failure message=\"\(e(summary))\" type=\"\(e(f.description))\">"
                out += e(GitleaksJSON.object(f).rendered(indent: "\t"))
                out += "</failure>\n"
                out += "\t\t</testcase>\n"
            }
            out += "\t</testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    /// gitleaks' test case name: `<rule> has detected a secret in file <file>, line <n>[, at commit <sha>].`
    static func message(_ f: Finding) -> String {
        var text = "\(f.ruleID) has detected a secret in file \(f.provenance.file), line \(f.startLine)"
        if !f.provenance.commit.isEmpty { text += ", at commit \(f.provenance.commit)" }
        return text + "."
    }
}

import Detection
import Reporting
import Testing

@Suite("GitHub Actions annotations")
struct GitHubTests {
    @Test func matchesGolden() throws {
        try Samples.expectGolden(renderReport(Samples.findings, format: .github, options: Samples.options()), "report.github.txt")
    }

    @Test func oneErrorCommandPerFinding() {
        let out = renderReport([Samples.findings[0]], format: .github, options: Samples.options(redact: 100))
        #expect(out == "::error file=deploy/prod.env,line=3,endLine=3,col=12,endColumn=31,title=aws-access-key::"
            + "AWS access key ID (secret: REDACTED; commit: 0123456789abcdef0123456789abcdef01234567; "
            + "fingerprint: deploy/prod.env:aws-access-key:3)\n")
    }

    @Test func escapesPropertiesAndDataLikeActionsToolkit() {
        let out = renderReport([Samples.findings[2]], format: .github, options: Samples.options(redact: 100))
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "a finding must stay on one line")
        // `,` and `:` only escaped in properties; `%` everywhere; multi-line finding has no columns.
        #expect(out.hasPrefix("::error file=odd dir/we%2Cird \"name\" <&>%25%3Aü.txt,line=1,endLine=2,title=odd-rule::"))
        #expect(out.contains("::Odd <&> \"rule\", 100%25 (secret: REDACTED;"))
        #expect(GitHubAnnotationsProbe.data("a%b\r\nc") == "a%25b%0D%0Ac")
    }

    @Test func noFindingsNoCommands() {
        #expect(renderReport([], format: .github, options: ReportOptions()) == "")
    }
}

/// Reaches the escaping rules through the public renderer: a finding whose description is the
/// probe string and nothing else that needs escaping.
enum GitHubAnnotationsProbe {
    static func data(_ s: String) -> String {
        let f = Finding(ruleID: "r", description: s, startLine: 0, endLine: 0, startColumn: 0, endColumn: 0,
                        match: "m", secret: "m", provenance: Provenance(file: ""), entropy: 0)
        let out = renderReport([f], format: .github, options: ReportOptions(redactPercent: 100))
        let prefix = "::error title=r::"
        guard out.hasPrefix(prefix), let end = out.range(of: " (secret: ") else { return out }
        return String(out[out.index(out.startIndex, offsetBy: prefix.count)..<end.lowerBound])
    }
}

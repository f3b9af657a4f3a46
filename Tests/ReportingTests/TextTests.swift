import Detection
import Reporting
import Testing

@Suite("Text report")
struct TextTests {
    @Test func matchesGolden() throws {
        try Samples.expectGolden(renderReport(Samples.findings, format: .text, options: Samples.options()), "report.txt")
    }

    @Test func colouredMatchesGolden() throws {
        try Samples.expectGolden(renderReport(Samples.findings, format: .text, options: Samples.options(color: true)), "report.color.txt")
    }

    @Test func noANSIWithoutColour() {
        let out = renderReport(Samples.findings, format: .text, options: Samples.options(color: false))
        #expect(!out.contains("\u{1B}"))
        let coloured = renderReport(Samples.findings, format: .text, options: Samples.options(color: true))
        #expect(coloured.contains("\u{1B}[31maws-access-key\u{1B}[0m"))
    }

    @Test func blockNamesLocationRuleSecretCommitFingerprintAndSuppression() {
        let out = renderReport([Samples.findings[0]], format: .text, options: Samples.options(redact: 50))
        #expect(out.hasPrefix("deploy/prod.env:3:12  aws-access-key  AWS access key ID\n"))
        #expect(out.contains("  Secret:      AKIAQQQQQQ...\n"))
        #expect(out.contains("  Commit:      0123456789abcdef0123456789abcdef01234567 by Jane Doe <jane@example.invalid> on 2024-01-02T03:04:05Z\n"))
        #expect(out.contains("  Message:     Add deploy settings\n"))
        #expect(out.contains("  Fingerprint: deploy/prod.env:aws-access-key:3\n"))
        #expect(out.contains("sealant:allow") && out.contains(".sealantignore") && out.contains("--baseline-path"))
        #expect(out.hasSuffix("\n1 finding in 1 file\n"))
    }

    @Test func summaryCountsFindingsAndFiles() {
        let twoInOne = [Samples.findings[0], Samples.findings[0]]
        #expect(renderReport(twoInOne, format: .text, options: ReportOptions()).hasSuffix("\n2 findings in 1 file\n"))
        #expect(renderReport(Samples.findings, format: .text, options: ReportOptions()).hasSuffix("\n3 findings in 3 files\n"))
        #expect(renderReport([], format: .text, options: ReportOptions()) == "no leaks found\n")
    }

    @Test func withoutGitThereIsNoCommitLine() {
        let out = renderReport([Samples.findings[1]], format: .text, options: ReportOptions())
        #expect(!out.contains("Commit:"))
        #expect(out.contains("  Secret:      fake-0...\n"))
    }

    @Test func scannedContentCannotDriveTheTerminal() {
        var f = Samples.findings[1]
        f.provenance.file = "evil\u{1B}]0;pwned\u{07}.txt"
        f.secret = "x\u{1B}[2Jy\u{202E}z\u{9B}"
        f.description = "line1\nline2"
        let out = renderReport([f], format: .text, options: ReportOptions(redactPercent: 0, color: false))
        #expect(!out.contains("\u{1B}") && !out.contains("\u{07}") && !out.contains("\u{202E}") && !out.contains("\u{9B}"))
        #expect(out.hasPrefix("evil\\x1b]0;pwned\\x07.txt:10:5  generic-api-key  line1\\nline2\n"))
        #expect(out.contains("x\\x1b[2Jy\\u{202e}z\\x9b"))
    }

    @Test func mentionsOtherOccurrences() {
        var f = Samples.findings[0]
        f.otherOccurrences = [Provenance(file: "a"), Provenance(file: "b")]
        #expect(renderReport([f], format: .text, options: ReportOptions()).contains("  Also in:     2 more places (same blob)\n"))
    }
}

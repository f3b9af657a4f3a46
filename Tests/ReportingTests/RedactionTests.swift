import Detection
import Foundation
import Reporting
import Testing

@Suite("Redaction")
struct RedactionTests {
    /// Values produced by gitleaks 8.30.1 `--redact=N` on the same secrets.
    @Test(arguments: [
        ("0123456789", 50, "01234..."), ("0123456789", 33, "0123456..."), ("0123456789", 75, "01..."),
        ("ab", 75, "..."), ("ab", 33, "a..."), ("ab", 50, "a..."), ("abc\u{08}", 50, "ab..."),
        ("0123456789", 100, "REDACTED"), ("0123456789", 0, "0123456789"),
    ])
    func matchesGitleaksMasking(secret: String, percent: Int, expected: String) {
        #expect(redactedSecret(secret, percent: percent) == expected)
    }

    @Test func neverSplitsACharacter() {
        // 12 UTF-8 bytes; gitleaks keeps 6 bytes and cuts "ü" in half, printing U+FFFD.
        #expect(redactedSecret("überüber12", percent: 50) == "über...")
        #expect(redactedSecret("😀😀", percent: 50) == "😀...")
    }

    @Test func redactsSecretMatchAndLine() {
        let f = Samples.findings[0].redacted(percent: 100)
        #expect(f.secret == "REDACTED")
        #expect(f.match == "AWS_KEY_ID=REDACTED")
        #expect(f.line == "export AWS_KEY_ID=REDACTED")
        #expect(f.fingerprint == Samples.findings[0].fingerprint)
        let half = Samples.findings[0].redacted(percent: 50)
        #expect(half.secret == "AKIAQQQQQQ...")
        #expect(half.match == "AWS_KEY_ID=AKIAQQQQQQ...")
    }

    @Test func aFindingWithoutASecretGroupMasksTheMatch() {
        var f = Samples.findings[1]
        f.secret = ""
        f.line = "x \(f.match) y"
        let masked = f.redacted(percent: 100)
        #expect(masked.match == "REDACTED")
        #expect(masked.line == "x REDACTED y")
    }

    @Test func aMatchThatDoesNotContainTheSecretIsMaskedItself() {
        // e.g. a secret found after base64-decoding the matched text. 17 bytes at 50% keep 8 (half to even).
        var f = Samples.findings[1]
        f.match = "key: ZmFrZS0wYTFi"
        f.line = "    key: ZmFrZS0wYTFi # x"
        let full = f.redacted(percent: 100)
        #expect(full.secret == "REDACTED" && full.match == "REDACTED")
        #expect(full.line == "    REDACTED # x")
        let half = f.redacted(percent: 50)
        #expect(half.match == "key: ZmF...")
        #expect(half.line == "    key: ZmF... # x")
    }

    @Test(arguments: ReportFormat.allCases)
    func fullRedactionHidesEverySecretInEveryFormat(format: ReportFormat) {
        let out = renderReport(Samples.findings, format: format, options: Samples.options(redact: 100))
        for f in Samples.findings {
            #expect(!out.contains(f.secret), "\(format) leaks \(f.ruleID)")
        }
        // The distinctive middle of each secret must not survive any escaping either.
        #expect(!out.contains(String(repeating: "Q", count: 8)))
        #expect(!out.contains("0a1b0a1b"))
        #expect(!out.contains("ünï"))
    }

    @Test(arguments: ReportFormat.allCases)
    func halfRedactionKeepsOnlyThePrefix(format: ReportFormat) {
        let out = renderReport([Samples.findings[0]], format: format, options: Samples.options(redact: 50))
        #expect(!out.contains(Samples.awsKey))
        #expect(out.contains("AKIAQQQQQQ..."))
    }

    @Test(arguments: [ReportFormat.json, .csv, .junit, .sarif, .gitlab, .text, .github])
    func noRedactionKeepsTheSecret(format: ReportFormat) {
        let out = renderReport([Samples.findings[0]], format: format, options: Samples.options(redact: 0))
        #expect(out.contains(Samples.awsKey))
    }

    @Test func textAndGitHubRedactUnlessToldNotTo() {
        for format in [ReportFormat.text, .github] {
            let out = renderReport([Samples.findings[0]], format: format, options: Samples.options())
            #expect(!out.contains(Samples.awsKey), "\(format) shows the whole secret by default")
            #expect(out.contains("AKIA..."))
        }
    }
}

import Detection
import Foundation
import Reporting
import Testing

@Suite("CSV report")
struct CSVTests {
    @Test func matchesGolden() throws {
        try Samples.expectGolden(renderReport(Samples.findings, format: .csv, options: Samples.options()), "report.csv")
    }

    @Test(arguments: ["gitleaks-8.30.1-git", "gitleaks-8.30.1-dir"])
    func reproducesGitleaksCSVByteForByte(name: String) throws {
        let findings = try readReport(try Samples.fixture("gitleaks/\(name).json"), source: name)
        let expected = try Samples.fixtureText("gitleaks/\(name).csv")
        #expect(renderReport(findings, format: .csv, options: ReportOptions()) == expected)
    }

    @Test func headerIsGitleaksColumnOrderAndWrittenEvenWhenEmpty() {
        #expect(renderReport([], format: .csv, options: ReportOptions())
            == "RuleID,Commit,File,SymlinkFile,Secret,Match,StartLine,EndLine,StartColumn,EndColumn,Author,Message,Date,Email,Fingerprint,Tags\n")
    }

    @Test func quotesOnlyFieldsThatNeedIt() throws {
        var f = Samples.findings[1]
        f.provenance.file = "plain.txt"
        f.secret = " leading space"
        f.match = "has \"quote\", comma"
        f.provenance.message = "two\nlines"
        f.provenance.author = "tab\tonly"
        let out = renderReport([f], format: .csv, options: ReportOptions())
        let row = try #require(out.split(separator: "\n", maxSplits: 1).last)
        #expect(row.hasPrefix("generic-api-key,,plain.txt,,\" leading space\",\"has \"\"quote\"\", comma\",10,10,5,33,tab\tonly,\"two\nlines\","))
    }
}

import Detection
import Foundation
import Reporting
import Testing

@Suite("JUnit report")
struct JUnitTests {
    @Test func matchesGolden() throws {
        try Samples.expectGolden(renderReport(Samples.findings, format: .junit, options: Samples.options()), "report.junit.xml")
    }

    @Test func followsGitleaksLayout() throws {
        // Same findings, same tool name: gitleaks' output minus its empty `time=""` attributes,
        // plus a final newline.
        let findings = try readReport(try Samples.fixture("gitleaks/gitleaks-8.30.1-git.json"), source: "git.json")
        let gitleaks = try Samples.fixtureText("gitleaks/gitleaks-8.30.1-git.junit.xml")
            .replacingOccurrences(of: " time=\"\"", with: "") + "\n"
        #expect(renderReport(findings, format: .junit, options: ReportOptions(toolName: "gitleaks")) == gitleaks)
    }

    @Test func emptySuite() {
        #expect(renderReport([], format: .junit, options: ReportOptions()) == """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites>
            \t<testsuite failures="0" name="sealant" tests="0"></testsuite>
            </testsuites>

            """)
    }

    @Test func isWellFormedXMLWithOneFailurePerFinding() throws {
        let xml = renderReport(Samples.findings, format: .junit, options: Samples.options(redact: 0))
        let script = """
        import sys, xml.etree.ElementTree as ET
        root = ET.fromstring(open(sys.argv[1], encoding="utf-8").read())
        suite = root.find("testsuite")
        cases = suite.findall("testcase")
        print(suite.get("name"), suite.get("tests"), suite.get("failures"), len(cases), len([c for c in cases if c.find("failure") is not None]))
        print(cases[2].get("file"))
        """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("junit-\(UUID().uuidString).xml")
        try Data(xml.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Python.run(script, arguments: [file.path])
        #expect(result.status == 0, "python3 could not parse the JUnit XML: \(result.output)")
        #expect(result.output == "sealant 3 3 3 3\nodd dir/we,ird \"name\" <&>%:ü.txt\n")
    }

    @Test func replacesCharactersXMLCannotHold() {
        var f = Samples.findings[1]
        f.description = "bell\u{07} and nul\u{0}"
        let out = renderReport([f], format: .junit, options: ReportOptions())
        #expect(out.contains("classname=\"bell\u{FFFD} and nul\u{FFFD}\""))
    }
}

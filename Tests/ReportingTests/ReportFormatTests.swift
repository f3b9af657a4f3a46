import Reporting
import Testing

@Suite("Report format selection")
struct ReportFormatTests {
    @Test(arguments: [
        ("json", ReportFormat.json), (".JSON", .json), ("sarif", .sarif), ("csv", .csv), ("xml", .junit),
        ("txt", .text), ("", .text), ("yaml", .text),
    ])
    func inferredFromReportPathExtension(ext: String, format: ReportFormat) {
        #expect(ReportFormat(pathExtension: ext) == format)
    }

    @Test func everyFormatHasAStableName() {
        #expect(ReportFormat.allCases.map(\.rawValue) == ["json", "sarif", "csv", "junit", "text", "github", "gitlab"])
    }

    @Test func humanFormatsRedactByDefaultMachineFormatsDoNot() {
        let options = ReportOptions()
        #expect(options.redaction(for: .text) == ReportOptions.defaultHumanRedaction)
        #expect(options.redaction(for: .github) == ReportOptions.defaultHumanRedaction)
        for format in [ReportFormat.json, .sarif, .csv, .junit, .gitlab] {
            #expect(options.redaction(for: format) == 0)
        }
        #expect(ReportOptions(redactPercent: 0).redaction(for: .text) == 0)
        #expect(ReportOptions(redactPercent: 250).redaction(for: .json) == 100)
        #expect(ReportOptions(redactPercent: -5).redaction(for: .text) == 0)
    }
}

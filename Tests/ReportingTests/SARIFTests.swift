import Detection
import Foundation
import Reporting
import Rules
import Testing

@Suite("SARIF report")
struct SARIFTests {
    @Test func matchesGolden() throws {
        try Samples.expectGolden(renderReport(Samples.findings, format: .sarif, options: Samples.options()), "report.sarif")
    }

    @Test(arguments: [0, 100])
    func validatesAgainstTheSARIF210Schema(redact: Int) throws {
        let schema = Samples.fixtures.appendingPathComponent("sarif-schema-2.1.0.json")
        let sarif = renderReport(Samples.findings, format: .sarif, options: Samples.options(redact: redact))
        let problem = try Python.validate(sarif, schema: schema)
        #expect(problem == nil, "SARIF does not validate: \(problem ?? "")")
    }

    @Test func emptyRunValidates() throws {
        let schema = Samples.fixtures.appendingPathComponent("sarif-schema-2.1.0.json")
        let sarif = renderReport([], format: .sarif, options: ReportOptions())
        #expect(try Python.validate(sarif, schema: schema) == nil)
    }

    @Test func theValidatorRejectsABrokenLog() throws {
        // Guards against a validator that passes everything.
        let schema = Samples.fixtures.appendingPathComponent("sarif-schema-2.1.0.json")
        let broken = renderReport(Samples.findings, format: .sarif, options: Samples.options())
            .replacingOccurrences(of: "\"level\": \"error\"", with: "\"level\": \"fatal\"")
        #expect(try Python.validate(broken, schema: schema) != nil)
    }

    private func decoded(_ options: ReportOptions = Samples.options()) throws -> [String: Any] {
        let text = renderReport(Samples.findings, format: .sarif, options: options)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func resultsCarryLocationsFingerprintsAndProvenance() throws {
        let log = try decoded()
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == 3)
        #expect(results.allSatisfy { $0["level"] as? String == "error" })

        let first = results[0]
        let location = try #require((first["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        let artifact = try #require(location["artifactLocation"] as? [String: Any])
        #expect(artifact["uri"] as? String == "deploy/prod.env")
        #expect(artifact["uriBaseId"] as? String == "SRCROOT")
        let region = try #require(location["region"] as? [String: Any])
        #expect(region["startLine"] as? Int == 3 && region["startColumn"] as? Int == 12)
        #expect(region["endLine"] as? Int == 3 && region["endColumn"] as? Int == 32)

        let fingerprints = try #require(first["partialFingerprints"] as? [String: String])
        #expect(fingerprints["sealant/v1"] == "deploy/prod.env:aws-access-key:3")
        // sha256("aws-access-key\0deploy/prod.env\0" + secret), as computed by Python's hashlib.
        #expect(fingerprints["sealantSecretLocation/v1"] == "c3d57b04b9e4ad552ccd3d38e9f577c8b7bc2bfce4f4c3fc818c8df1ccac2db8")
        let properties = try #require(first["properties"] as? [String: Any])
        #expect(properties["commit"] as? String == "0123456789abcdef0123456789abcdef01234567")
        #expect(properties["author"] as? String == "Jane Doe")
        #expect(properties["date"] as? String == "2024-01-02T03:04:05Z")
        #expect(results[1]["properties"] == nil)

        let odd = try #require((results[2]["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        #expect((odd["artifactLocation"] as? [String: Any])?["uri"] as? String
            == "odd%20dir/we,ird%20%22name%22%20%3C&%3E%25%3A%C3%BC.txt")

        let base = try #require(run["originalUriBaseIds"] as? [String: [String: String]])
        #expect(base["SRCROOT"]?["uri"] == "file:///work/my%20repo/")
    }

    @Test func fingerprintsDoNotDependOnRedactionOrCommit() throws {
        func fingerprints(_ f: Finding, redact: Int) throws -> [String: String] {
            let text = renderReport([f], format: .sarif, options: ReportOptions(redactPercent: redact))
            let log = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let run = try #require((log["runs"] as? [[String: Any]])?.first)
            return try #require((run["results"] as? [[String: Any]])?.first?["partialFingerprints"] as? [String: String])
        }
        let original = Samples.findings[0]
        var rewritten = original
        rewritten.provenance.commit = "1111111111111111111111111111111111111111"
        rewritten.startLine = 40
        let a = try fingerprints(original, redact: 0)
        #expect(try fingerprints(original, redact: 100) == a)
        #expect(try fingerprints(rewritten, redact: 0)["sealantSecretLocation/v1"] == a["sealantSecretLocation/v1"])
        var otherSecret = original
        otherSecret.secret = "AKIA" + String(repeating: "R", count: 16)
        #expect(try fingerprints(otherSecret, redact: 0)["sealantSecretLocation/v1"] != a["sealantSecretLocation/v1"])
    }

    @Test func rulesComeFromOptionsOrFromFindings() throws {
        let log = try decoded()
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "sealant")
        #expect(driver["version"] as? String == "1.2.3")
        #expect(driver["informationUri"] as? String == "https://example.invalid/sealant")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.map { $0["id"] as? String } == ["aws-access-key", "generic-api-key", "odd-rule"])
        #expect(((rules[0]["properties"] as? [String: Any])?["tags"] as? [String]) == ["aws", "cloud", "security"])
        #expect(((rules[2]["shortDescription"] as? [String: Any])?["text"] as? String) == "Odd <&> \"rule\", 100%")
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.map { $0["ruleIndex"] as? Int } == [0, 1, 2])
    }

    @Test func withoutAScanRootURIsStayRelativeAndAbsolutePathsBecomeFileURIs() throws {
        var absolute = Samples.findings[1]
        absolute.provenance.file = "/tmp/x y/a.txt"
        let text = renderReport([Samples.findings[1], absolute], format: .sarif, options: ReportOptions())
        #expect(!text.contains("originalUriBaseIds"))
        #expect(!text.contains("uriBaseId"))
        #expect(text.contains("\"uri\": \"src/app/settings.yaml\""))
        #expect(text.contains("\"uri\": \"file:///tmp/x%20y/a.txt\""))
    }
}

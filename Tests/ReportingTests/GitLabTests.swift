import Detection
import Foundation
import Reporting
import Testing

@Suite("GitLab secret-detection report")
struct GitLabTests {
    @Test func matchesGolden() throws {
        try Samples.expectGolden(renderReport(Samples.findings, format: .gitlab, options: Samples.options()), "report.gitlab.json")
    }

    @Test(arguments: [[Finding](), Samples.findings])
    func satisfiesWhatGitLabEnforces(findings: [Finding]) throws {
        let schema = Samples.fixtures.appendingPathComponent("gitlab-secret-detection-required.schema.json")
        let report = renderReport(findings, format: .gitlab, options: Samples.options())
        let problem = try Python.validate(report, schema: schema)
        #expect(problem == nil, "GitLab would reject the report: \(problem ?? "")")
    }

    @Test func vulnerabilitiesDescribeEachFinding() throws {
        let text = renderReport(Samples.findings, format: .gitlab, options: Samples.options())
        let report = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(report["version"] as? String == "15.2.4")
        let scan = try #require(report["scan"] as? [String: Any])
        #expect(scan["type"] as? String == "secret_detection")
        #expect(scan["status"] as? String == "success")
        #expect(scan["start_time"] as? String == "2023-11-14T22:13:20")
        #expect(scan["end_time"] as? String == "2023-11-14T22:14:02")

        let vulns = try #require(report["vulnerabilities"] as? [[String: Any]])
        #expect(vulns.count == 3)
        #expect(vulns.allSatisfy { $0["category"] as? String == "secret_detection" && $0["severity"] as? String == "Critical" })
        let ids = vulns.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == 3)
        #expect(ids.allSatisfy { $0.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", options: .regularExpression) != nil })

        let location = try #require(vulns[0]["location"] as? [String: Any])
        #expect(location["file"] as? String == "deploy/prod.env")
        #expect(location["start_line"] as? Int == 3)
        let commit = try #require(location["commit"] as? [String: Any])
        #expect(commit["sha"] as? String == "0123456789abcdef0123456789abcdef01234567")
        #expect(commit["author"] as? String == "Jane Doe <jane@example.invalid>")
        let noGit = try #require((vulns[1]["location"] as? [String: Any])?["commit"] as? [String: Any])
        #expect(noGit["sha"] as? String == "0000000")
        let identifier = try #require((vulns[0]["identifiers"] as? [[String: Any]])?.first)
        #expect(identifier["type"] as? String == "sealant_rule_id")
        #expect(identifier["value"] as? String == "aws-access-key")
    }

    @Test func idsAreStableAcrossRunsAndRedaction() {
        func ids(_ redact: Int) -> [Substring] {
            renderReport(Samples.findings, format: .gitlab, options: Samples.options(redact: redact))
                .split(separator: "\n").filter { $0.hasPrefix("      \"id\"") && $0.filter { $0 == "-" }.count == 4 }
        }
        #expect(ids(0) == ids(100))
        #expect(ids(0).count == 3)
    }
}

import Detection
import Foundation
import Reporting
import Testing

@Suite("gitleaks JSON report")
struct JSONReportTests {
    @Test func matchesGolden() throws {
        try Samples.expectGolden(renderReport(Samples.findings, format: .json, options: Samples.options()), "report.json")
    }

    @Test func largeReportsRenderedInChunksJoinExactly() throws {
        // More findings than one rendering chunk (256), so several chunks are joined; each copy
        // differs, so an out-of-order join would show.
        let many = (0..<601).map { i -> Finding in
            var f = Samples.findings[i % Samples.findings.count]
            f.startLine = i + 1
            return f
        }
        let out = renderReport(many, format: .json, options: ReportOptions(redactPercent: 0))
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
        #expect(decoded.map { $0["StartLine"] as? Int } == (1...601).map { $0 })
        let single = renderReport([many[0]], format: .json, options: ReportOptions(redactPercent: 0))
        #expect(out.hasPrefix(String(single.dropLast(3)) + ",\n {\n"), "same layout as a one-finding report")
        #expect(out.hasSuffix("\n }\n]\n"))
    }

    @Test func emptyReportIsAnEmptyArrayLikeGitleaks() {
        #expect(renderReport([], format: .json, options: Samples.options()) == "[]\n")
    }

    @Test func keysAppearInGitleaksOrderAndLinkOnlyWhenSet() throws {
        let out = renderReport(Samples.findings, format: .json, options: Samples.options())
        let keys = out.split(separator: "\n").compactMap { line -> String? in
            let t = line.drop { $0 == " " }
            guard line.hasPrefix("  \""), let end = t.dropFirst().firstIndex(of: "\"") else { return nil }
            return String(t[t.index(after: t.startIndex)..<end])
        }
        let withLink = ["RuleID", "Description", "StartLine", "EndLine", "StartColumn", "EndColumn", "Match",
                        "Secret", "File", "SymlinkFile", "Commit", "Link", "Entropy", "Author", "Email", "Date",
                        "Message", "Tags", "Fingerprint"]
        let withoutLink = withLink.filter { $0 != "Link" }
        #expect(keys == withLink + withoutLink + withoutLink)
    }

    @Test func escapesLikeGoEncodingJSON() {
        var f = Samples.findings[1]
        f.secret = "a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{1F}\u{7F}<>&\u{2028}\u{2029}é😀"
        let out = renderReport([f], format: .json, options: ReportOptions(redactPercent: 0))
        #expect(out.contains(#""Secret": "a\"b\\c\n\r\t\b\f\u0001\u001f"# + "\u{7F}" + #"\u003c\u003e\u0026\u2028\u2029é😀","#))
    }

    @Test func entropyIsPrintedAsGoFloat32() {
        func entropy(_ value: Double) -> String? {
            var f = Samples.findings[1]
            f.entropy = value
            let out = renderReport([f], format: .json, options: ReportOptions())
            return out.split(separator: "\n").first { $0.contains("\"Entropy\"") }.map(String.init)
        }
        #expect(entropy(3.0) == "  \"Entropy\": 3,")
        #expect(entropy(0) == "  \"Entropy\": 0,")
        #expect(entropy(4.834183692932129) == "  \"Entropy\": 4.8341837,")
        #expect(entropy(0.00025) == "  \"Entropy\": 0.00025,")
        #expect(entropy(1.5849625007211563) == "  \"Entropy\": 1.5849625,")
    }

    @Test func roundTripsThroughReadReport() throws {
        let rendered = renderReport(Samples.findings, format: .json, options: Samples.options())
        let read = try readReport(Data(rendered.utf8), source: "round-trip.json")
        #expect(read.count == Samples.findings.count)
        for (back, original) in zip(read, Samples.findings) {
            var expected = original
            expected.line = ""  // not part of the format
            expected.entropy = back.entropy
            #expect(back == expected)
            #expect(Float(back.entropy) == Float(original.entropy))
        }
        // And the text is a fixed point.
        #expect(renderReport(read, format: .json, options: Samples.options()) == rendered)
    }

    @Test(arguments: ["gitleaks/gitleaks-8.30.1-git.json", "gitleaks/gitleaks-8.30.1-dir.json"])
    func readsRealGitleaksReportsAndWritesThemBackByteForByte(name: String) throws {
        let data = try Samples.fixture(name)
        let findings = try readReport(data, source: name)
        #expect(!findings.isEmpty)
        #expect(renderReport(findings, format: .json, options: ReportOptions(redactPercent: 0)) == String(decoding: data, as: UTF8.self))
    }

    @Test func readsGitleaksGitProvenance() throws {
        let findings = try readReport(try Samples.fixture("gitleaks/gitleaks-8.30.1-git.json"), source: "git.json")
        let first = try #require(findings.first)
        #expect(first.ruleID == "fake-token")
        #expect(first.secret == "not-a-real-secret-0000")
        #expect(first.startLine == 2 && first.startColumn == 9 && first.endColumn == 41)
        #expect(first.provenance.commit == "f56ae6e69b478b015449f6ba4da4b31ce3fbb3fe")
        #expect(first.provenance.email == "fixture@example.invalid")
        #expect(first.provenance.link.hasPrefix("https://github.com/example/fixture/blob/"))
        #expect(first.tags == ["fake", "fix,ture"])
        #expect(first.fingerprint == "f56ae6e69b478b015449f6ba4da4b31ce3fbb3fe:config.yml:fake-token:2")
        let odd = findings[1]
        #expect(odd.provenance.file == "odd file, \"x\".txt")
        #expect(odd.secret.contains("<&>") && odd.secret.contains("\u{2028}") && odd.secret.contains("\u{01}"))
        #expect(odd.provenance.message == "second commit\n\nbody, with <b> & \"quotes\"")
    }

    @Test func toleratesMissingOptionalKeysAndNull() throws {
        let minimal = #"[{"RuleID": "r", "File": "a.txt", "StartLine": 4}, {"RuleID": "s", "Tags": null, "Link": null}]"#
        let findings = try readReport(Data(minimal.utf8), source: "minimal.json")
        #expect(findings.count == 2)
        #expect(findings[0].ruleID == "r" && findings[0].file == "a.txt" && findings[0].startLine == 4)
        #expect(findings[0].secret == "" && findings[0].tags == [] && findings[0].entropy == 0)
        #expect(findings[1].tags == [] && findings[1].provenance.link == "")
        #expect(try readReport(Data("null".utf8), source: "null.json") == [])
        #expect(try readReport(Data("[]".utf8), source: "empty.json") == [])
    }

    @Test func invalidJSONNamesTheFile() {
        #expect {
            _ = try readReport(Data("[{\"RuleID\": ".utf8), source: "baseline/broken.json")
        } throws: { error in
            guard let e = error as? ReportReadError, case .invalidJSON(let source, _) = e else { return false }
            return source == "baseline/broken.json" && e.description.hasPrefix("baseline/broken.json: ")
        }
    }

    @Test func wrongShapesAreTypedErrors() {
        #expect(throws: ReportReadError.notAnArray(source: "obj.json")) {
            _ = try readReport(Data(#"{"RuleID": "r"}"#.utf8), source: "obj.json")
        }
        #expect {
            _ = try readReport(Data(#"[{"RuleID": "r"}, {"RuleID": "s", "StartLine": "three"}]"#.utf8), source: "t.json")
        } throws: { error in
            guard case .invalidEntry(let source, let index, let key, _)? = error as? ReportReadError else { return false }
            return source == "t.json" && index == 1 && key == "StartLine"
        }
        #expect {
            _ = try readReport(Data(#"[{"File": "a"}]"#.utf8), source: "norule.json")
        } throws: { error in
            guard case .invalidEntry(_, 0, "RuleID", let problem)? = error as? ReportReadError else { return false }
            return problem == "is missing"
        }
        #expect {
            _ = try readReport(Data(#"[3]"#.utf8), source: "num.json")
        } throws: { error in
            guard case .invalidEntry(_, 0, _, _)? = error as? ReportReadError else { return false }
            return true
        }
    }
}

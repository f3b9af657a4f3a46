import Detection
import Foundation
import Reporting
import Rules
import Testing

/// The findings every format's golden output is built from, and helpers to reach fixture files.
/// Secrets are assembled at run time so the source never holds anything credential-shaped.
enum Samples {
    /// An AWS-style key id: the `AKIA` prefix followed by an obviously fake filler.
    static let awsKey = "AKIA" + String(repeating: "Q", count: 16)
    /// A generic token made of a repeated, obviously fake pattern.
    static let genericToken = "fake-" + String(repeating: "0a1b", count: 6)
    /// A "secret" exercising every escaping rule: quotes, backslash, comma, `<&>`, `%`, a tab,
    /// non-ASCII, an emoji, a C0 control and U+2028.
    static let oddSecret = "q\"u,o\\te <&> 100% ünï 😀\u{01}\ttab\u{2028}end"

    /// One finding with git provenance, one from a plain file, one full of awkward characters.
    static let findings: [Finding] = [
        Finding(
            ruleID: "aws-access-key", description: "AWS access key ID", startLine: 3, endLine: 3,
            startColumn: 12, endColumn: 31, match: "AWS_KEY_ID=\(awsKey)", secret: awsKey,
            line: "export AWS_KEY_ID=\(awsKey)",
            provenance: Provenance(
                file: "deploy/prod.env", commit: "0123456789abcdef0123456789abcdef01234567",
                author: "Jane Doe", email: "jane@example.invalid", date: "2024-01-02T03:04:05Z",
                message: "Add deploy settings\n\nSee ticket #12",
                link: "https://example.invalid/blob/0123456/deploy/prod.env#L3"),
            entropy: 2.6464393, tags: ["aws", "key"],
            fingerprint: "deploy/prod.env:aws-access-key:3"),
        Finding(
            ruleID: "generic-api-key", description: "Generic API key", startLine: 10, endLine: 10,
            startColumn: 5, endColumn: 33, match: "key: \(genericToken)", secret: genericToken,
            line: "    key: \(genericToken)",
            provenance: Provenance(file: "src/app/settings.yaml"),
            entropy: 3.0, tags: [], fingerprint: "src/app/settings.yaml:generic-api-key:10"),
        Finding(
            ruleID: "odd-rule", description: "Odd <&> \"rule\", 100%", startLine: 1, endLine: 2,
            startColumn: 1, endColumn: 4, match: "TOKEN=\(oddSecret);", secret: oddSecret,
            line: "TOKEN=\(oddSecret); # note",
            provenance: Provenance(
                file: "odd dir/we,ird \"name\" <&>%:ü.txt", symlinkFile: "link:to,odd.txt",
                commit: "fedcba9876543210fedcba9876543210fedcba98", author: "Zoë \"Q\" O'Neil",
                email: "zoe@example.invalid", date: "2024-02-03T04:05:06Z",
                message: "subject, with <b> & 50%\r\nsecond line"),
            entropy: 0, tags: ["odd", "comma,tag"], fingerprint: ""),
    ]

    /// Rule metadata for SARIF: the first rule is known, the others come from their findings.
    static let rules: [Rule] = [
        Rule(id: "aws-access-key", description: "AWS access key ID", tags: ["aws", "cloud"]),
    ]

    /// Options that make every format deterministic.
    static func options(redact: Int? = nil, color: Bool = false) -> ReportOptions {
        ReportOptions(
            redactPercent: redact, color: color, toolName: "sealant", toolVersion: "1.2.3",
            informationURI: "https://example.invalid/sealant", rules: rules,
            scanRoot: "/work/my repo", scanStarted: Date(timeIntervalSince1970: 1_700_000_000),
            scanFinished: Date(timeIntervalSince1970: 1_700_000_042))
    }

    static let fixtures: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/reporting")

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: fixtures.appendingPathComponent(name))
    }

    static func fixtureText(_ name: String) throws -> String {
        String(decoding: try fixture(name), as: UTF8.self)
    }

    /// Compares `actual` with `golden/<name>`; with `SEALANT_UPDATE_GOLDEN=1` rewrites it instead.
    static func expectGolden(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = fixtures.appendingPathComponent("golden").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["SEALANT_UPDATE_GOLDEN"] == "1" {
            try Data(actual.utf8).write(to: url)
            return
        }
        let expected = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        #expect(actual == expected, "output differs from golden/\(name)", sourceLocation: sourceLocation)
    }
}

/// Runs a Python 3 snippet (for `jsonschema` and XML checks). A missing interpreter or module
/// is a failure with a message saying what to install, never a silent pass.
enum Python {
    struct Result { var status: Int32; var output: String }

    static func run(_ script: String, arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        // Output goes to a temp file, not a pipe: Foundation's pipe reads trap on EINTR.
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("sealant-py-\(UUID().uuidString).out")
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil),
              let sink = FileHandle(forWritingAtPath: outputURL.path) else {
            throw CocoaError(.fileWriteUnknown)
        }
        defer { try? FileManager.default.removeItem(at: outputURL) }
        process.standardOutput = sink
        process.standardError = sink
        try process.run()
        process.waitUntilExit()
        try? sink.close()
        let data = (try? Data(contentsOf: outputURL)) ?? Data()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Validates `document` against the JSON schema file at `schema`. Returns nil when valid,
    /// else what is wrong (including "python3/jsonschema missing", exit 127/3).
    static func validate(_ document: String, schema: URL) throws -> String? {
        let script = """
        import sys, json
        try:
            import jsonschema
        except ImportError:
            print("python3 module 'jsonschema' is not installed (pip install jsonschema)")
            sys.exit(3)
        schema = json.load(open(sys.argv[1], encoding="utf-8"))
        doc = json.load(open(sys.argv[2], encoding="utf-8"))
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(map(str, e.path)))
        for e in errors[:5]:
            print("/".join(map(str, e.path)) + ": " + e.message)
        sys.exit(1 if errors else 0)
        """
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("sealant-report-\(UUID().uuidString).json")
        try Data(document.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try run(script, arguments: [schema.path, file.path])
        if result.status == 127 { return "python3 not found on PATH: \(result.output)" }
        return result.status == 0 ? nil : "exit \(result.status): \(result.output)"
    }
}

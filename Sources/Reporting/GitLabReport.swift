import Detection
import Foundation

/// GitLab's secret-detection security report (schema 15.2.4): one `Critical` vulnerability per
/// finding with its file, lines and commit, identified by rule id, plus the `scan` block GitLab
/// requires. Findings outside git get GitLab's own placeholder commit `0000000`.
enum GitLabReport {
    static let schemaVersion = "15.2.4"
    static let schemaURI = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.2.4/dist/secret-detection-report-format.json"
    static let placeholderCommit = "0000000"

    static func render(_ findings: [ReportedFinding], options: ReportOptions) -> String {
        let name = displayName(options.toolName)
        var tool: [(String, JSONValue)] = [("id", .string(options.toolName)), ("name", .string(name))]
        if let uri = options.informationURI, uri.hasPrefix("http://") || uri.hasPrefix("https://") {
            tool.append(("url", .string(uri)))
        }
        tool.append(("vendor", .object([("name", .string(name))])))
        tool.append(("version", .string(options.toolVersion.isEmpty ? "0.0.0" : options.toolVersion)))

        let now = Date()
        let report: JSONValue = .object([
            ("version", .string(schemaVersion)),
            ("schema", .string(schemaURI)),
            ("vulnerabilities", .array(findings.map { vulnerability($0, toolID: options.toolName, toolName: name) })),
            ("scan", .object([
                ("analyzer", .object(tool)),
                ("scanner", .object(tool)),
                ("type", .string("secret_detection")),
                ("start_time", .string(timestamp(options.scanStarted ?? now))),
                ("end_time", .string(timestamp(options.scanFinished ?? options.scanStarted ?? now))),
                ("status", .string("success")),
            ])),
        ])
        return report.rendered(indent: "  ") + "\n"
    }

    private static func vulnerability(_ reported: ReportedFinding, toolID: String, toolName: String) -> JSONValue {
        let f = reported.shown
        let p = f.provenance
        let title = f.description.isEmpty ? "Secret detected by rule \(f.ruleID)" : f.description
        var commit: [(String, JSONValue)] = []
        if !p.author.isEmpty { commit.append(("author", .string(p.email.isEmpty ? p.author : "\(p.author) <\(p.email)>"))) }
        if !p.date.isEmpty { commit.append(("date", .string(p.date))) }
        if !p.message.isEmpty { commit.append(("message", .string(p.message))) }
        commit.append(("sha", .string(p.commit.isEmpty ? placeholderCommit : p.commit)))

        let secret = f.secret.isEmpty ? f.match : f.secret
        return .object([
            ("id", .string(vulnerabilityID(reported.original))),
            ("category", .string("secret_detection")),
            ("name", .string(String(title.prefix(255)))),
            ("description", .string("\(title) in \(p.file) at line \(f.startLine) (rule \(f.ruleID)).")),
            ("severity", .string("Critical")),
            ("confidence", .string("Unknown")),
            ("raw_source_code_extract", .string(secret)),
            ("scanner", .object([("id", .string(toolID)), ("name", .string(toolName))])),
            ("location", .object([
                ("file", .string(p.file)),
                ("commit", .object(commit)),
                ("start_line", .int(f.startLine)),
                ("end_line", .int(max(f.endLine, f.startLine))),
            ])),
            ("identifiers", .array([.object([
                ("type", .string("\(toolID)_rule_id")),
                ("name", .string("\(toolName) rule ID \(f.ruleID)")),
                ("value", .string(f.ruleID)),
            ])])),
        ])
    }

    /// A UUID-shaped id derived from the finding, stable across runs so GitLab can track it.
    static func vulnerabilityID(_ f: Finding) -> String {
        let p = f.provenance
        let key = [f.ruleID, f.fingerprint, p.file, p.commit, String(f.startLine), String(f.startColumn)]
            .joined(separator: "\u{0}")
        let hex = Array(Fingerprint.sha256Hex(Array(key.utf8)).prefix(32))
        return [hex[0..<8], hex[8..<12], hex[12..<16], hex[16..<20], hex[20..<32]].map { String($0) }.joined(separator: "-")
    }

    /// `yyyy-MM-ddTHH:mm:ss` in UTC, the only form the schema accepts.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ v: Int?, _ width: Int) -> String {
            let s = String(v ?? 0)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))"
    }

    private static func displayName(_ id: String) -> String {
        guard let first = id.first else { return "Sealant" }
        return first.uppercased() + id.dropFirst()
    }
}

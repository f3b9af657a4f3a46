import Detection
import Rules

/// SARIF 2.1.0 for GitHub code scanning: one run, the rules that produced findings (metadata from
/// `ReportOptions.rules`), one `error` result per finding with a relative artifact URI, region,
/// partial fingerprints that survive re-scans, and git provenance as result properties.
enum SARIFReport {
    static let schemaURI = "https://json.schemastore.org/sarif-2.1.0.json"
    static let rootBaseID = "SRCROOT"

    static func render(_ findings: [ReportedFinding], options: ReportOptions) -> String {
        var ruleOrder: [String] = []
        var ruleIndex: [String: Int] = [:]
        for f in findings where ruleIndex[f.shown.ruleID] == nil {
            ruleIndex[f.shown.ruleID] = ruleOrder.count
            ruleOrder.append(f.shown.ruleID)
        }
        let known = Dictionary(options.rules.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let rules = ruleOrder.map { id -> JSONValue in
            let example = findings.first { $0.shown.ruleID == id }?.shown
            return rule(id: id, rule: known[id], example: example)
        }

        var driver: [(String, JSONValue)] = [("name", .string(options.toolName)), ("version", .string(options.toolVersion))]
        if let uri = options.informationURI, !uri.isEmpty { driver.append(("informationUri", .string(uri))) }
        driver.append(("rules", .array(rules)))

        var run: [(String, JSONValue)] = [("tool", .object([("driver", .object(driver))]))]
        if let root = options.scanRoot, !root.isEmpty {
            run.append(("originalUriBaseIds", .object([(rootBaseID, .object([("uri", .string(FileURI.directory(root)))]))])))
        }
        let useBase = options.scanRoot.map { !$0.isEmpty } ?? false
        run.append(("results", .array(findings.map { result($0, ruleIndex: ruleIndex[$0.shown.ruleID] ?? 0, useBase: useBase) })))

        let log: JSONValue = .object([
            ("$schema", .string(schemaURI)),
            ("version", .string("2.1.0")),
            ("runs", .array([.object(run)])),
        ])
        return log.rendered(indent: " ") + "\n"
    }

    private static func rule(id: String, rule: Rule?, example: Finding?) -> JSONValue {
        let description = [rule?.description, example?.description].compactMap { $0 }.first { !$0.isEmpty }
            ?? "Secret detected by rule \(id)"
        var tags = rule?.tags ?? example?.tags ?? []
        if !tags.contains("security") { tags.append("security") }
        let sentence = description.hasSuffix(".") ? description : description + "."
        let help = "\(sentence) Rotate or revoke the credential, then remove it from the code and "
            + "from git history. If it is a false positive, add a `sealant:allow` comment on the line, "
            + "add the finding's fingerprint to .sealantignore, or record it in a baseline (--baseline-path)."
        return .object([
            ("id", .string(id)),
            ("shortDescription", .object([("text", .string(description))])),
            ("fullDescription", .object([("text", .string("\(sentence) Rule: \(id)."))])),
            ("help", .object([("text", .string(help))])),
            ("defaultConfiguration", .object([("level", .string("error"))])),
            ("properties", .object([
                ("tags", .array(tags.map(JSONValue.string))),
                ("security-severity", .string("9.0")),
            ])),
        ])
    }

    private static func result(_ reported: ReportedFinding, ruleIndex: Int, useBase: Bool) -> JSONValue {
        let f = reported.shown
        let p = f.provenance
        let startLine = max(f.startLine, 1)
        let startColumn = max(f.startColumn, 1)
        var region: [(String, JSONValue)] = [
            ("startLine", .int(startLine)),
            ("startColumn", .int(startColumn)),
            ("endLine", .int(max(f.endLine, startLine))),
            // SARIF's endColumn is exclusive; gitleaks-style columns are inclusive.
            ("endColumn", .int(max(f.endColumn + 1, 1))),
        ]
        let snippet = f.secret.isEmpty ? f.match : f.secret
        if !snippet.isEmpty { region.append(("snippet", .object([("text", .string(snippet))]))) }

        var artifact: [(String, JSONValue)] = [("uri", .string(FileURI.reference(p.file)))]
        if useBase && !FileURI.isAbsolute(p.file) { artifact.append(("uriBaseId", .string(rootBaseID))) }

        var message = "\(f.ruleID): \(f.description.isEmpty ? "secret detected" : f.description)"
        if !p.commit.isEmpty { message += " (commit \(p.commit))" }

        var fingerprints: [(String, JSONValue)] = []
        if !reported.original.fingerprint.isEmpty {
            fingerprints.append(("sealant/v1", .string(reported.original.fingerprint)))
        }
        fingerprints.append(("sealantSecretLocation/v1", .string(secretLocationHash(reported.original))))

        var properties: [(String, JSONValue)] = []
        for (key, value) in [("commit", p.commit), ("author", p.author), ("email", p.email),
                             ("date", p.date), ("commitMessage", p.message), ("symlinkFile", p.symlinkFile),
                             ("link", p.link)] where !value.isEmpty {
            properties.append((key, .string(value)))
        }
        if !f.tags.isEmpty { properties.append(("tags", .array(f.tags.map(JSONValue.string)))) }

        var members: [(String, JSONValue)] = [
            ("ruleId", .string(f.ruleID)),
            ("ruleIndex", .int(ruleIndex)),
            ("level", .string("error")),
            ("message", .object([("text", .string(message))])),
            ("locations", .array([.object([("physicalLocation", .object([
                ("artifactLocation", .object(artifact)),
                ("region", .object(region)),
            ]))])])),
            ("partialFingerprints", .object(fingerprints)),
        ]
        if !properties.isEmpty { members.append(("properties", .object(properties))) }
        return .object(members)
    }

    /// A commit- and line-independent id: rule, path and the unredacted secret, hashed. Stays the
    /// same when the secret moves lines or the history is rewritten (squash, rebase).
    static func secretLocationHash(_ f: Finding) -> String {
        let secret = f.secret.isEmpty ? f.match : f.secret
        return Fingerprint.sha256Hex(Array("\(f.ruleID)\u{0}\(f.provenance.file)\u{0}\(secret)".utf8))
    }
}

/// File paths as URI references for SARIF.
enum FileURI {
    /// Characters left alone in a path (RFC 3986 unreserved, sub-delims, `@` and `/`); `:` is
    /// escaped so a relative path's first segment never reads as a scheme.
    private static let allowed: Set<UInt8> = Set(Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=@/".utf8))

    static func isAbsolute(_ path: String) -> Bool {
        path.hasPrefix("/") || (path.count > 2 && Array(path.utf8)[1] == UInt8(ascii: ":"))
    }

    static func percentEncoded(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            if allowed.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    /// A relative reference for a relative path, a `file://` URI for an absolute one.
    static func reference(_ path: String) -> String {
        let slashed = path.replacingAll("\\", with: "/")
        if slashed.hasPrefix("/") { return "file://" + percentEncoded(slashed) }
        if isAbsolute(slashed) { return "file:///" + percentEncoded(slashed) }
        return percentEncoded(slashed.hasPrefix("./") ? String(slashed.dropFirst(2)) : slashed)
    }

    /// A `file://` URI for a directory, ending in `/` as SARIF requires for base URIs.
    static func directory(_ path: String) -> String {
        var uri = reference(path)
        if !uri.hasPrefix("file:") { uri = "file:///" + uri }
        return uri.hasSuffix("/") ? uri : uri + "/"
    }
}

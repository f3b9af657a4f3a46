import Foundation
import Testing
import Yams

/// Issue 7's acceptance, end to end with the built binary: the manifests under Fixtures/kubernetes
/// are scanned, sealed in place with `scan --fix`, scanned again, re-parsed and unsealed.
@Suite("Kubernetes acceptance", .serialized)
struct KubernetesAcceptanceTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/kubernetes")

    /// A placeholder in a fixture: where it is and what the scan must say about it.
    struct Expectation {
        var file: String
        var line: Int
        var name: String
        var rule: String?   // nil: any rule
    }

    static let rules = ["SECRET": "kubernetes-secret-manifest", "CM": "kubernetes-configmap-credential",
                        "ENV": "kubernetes-env-credential", "HELM": "helm-values-credential", "KUST": "kustomize-secret-literal"]

    /// A random credential-looking value (upper, lower and digits), made up at run time.
    static func randomValue() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return "Q7x" + String((0..<25).map { _ in alphabet.randomElement() ?? "x" })
    }

    /// Copies the fixtures to `tree`, replacing `@@NAME@@` and `@@B64:NAME@@` with generated values.
    static func materialize(into tree: URL) throws -> (values: [String: String], expected: [Expectation]) {
        let regex = try NSRegularExpression(pattern: "@@(B64:)?([A-Z0-9_]+)@@")
        var values: [String: String] = [:]
        var expected: [Expectation] = []
        let files = (FileManager.default.enumerator(atPath: fixtures.path)?.allObjects as? [String] ?? []).sorted()
        for relative in files where relative != "README.md" {
            let source = fixtures.appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            var lines: [String] = []
            for (number, line) in try String(contentsOf: source, encoding: .utf8).components(separatedBy: "\n").enumerated() {
                var output = line
                let ns = line as NSString
                for match in regex.matches(in: line, range: NSRange(location: 0, length: ns.length)).reversed() {
                    let name = ns.substring(with: match.range(at: 2))
                    let value = values[name] ?? randomValue()
                    values[name] = value
                    let encoded = match.range(at: 1).location != NSNotFound
                    output = (output as NSString).replacingCharacters(in: match.range, with: encoded ? Data(value.utf8).base64EncodedString() : value)
                    let prefix = String(name.prefix { $0 != "_" })
                    expected.append(Expectation(file: relative, line: number + 1, name: name, rule: rules[prefix]))
                }
                lines.append(output)
            }
            let target = tree.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try lines.joined(separator: "\n").write(to: target, atomically: true, encoding: .utf8)
        }
        return (values, expected)
    }

    static func dictionary(_ any: Any?) -> [String: Any]? {
        if let d = any as? [String: Any] { return d }
        if let d = any as? [AnyHashable: Any] {
            return Dictionary(uniqueKeysWithValues: d.compactMap { k, v in (k.base as? String).map { ($0, v) } })
        }
        return nil
    }

    /// The Kubernetes objects of a manifest file (YAML documents, JSON objects; List items flattened).
    static func objects(in file: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: file, encoding: .utf8)
        var roots: [Any] = []
        if file.pathExtension == "json" {
            roots = [try JSONSerialization.jsonObject(with: Data(text.utf8))]
        } else {
            for document in try Yams.load_all(yaml: text) { roots.append(document) }
        }
        func flatten(_ any: Any) -> [[String: Any]] {
            if let array = any as? [Any] { return array.flatMap(flatten) }
            guard let object = dictionary(any) else { return [] }
            if (object["kind"] as? String)?.hasSuffix("List") == true, let items = object["items"] as? [Any] { return items.flatMap(flatten) }
            return [object]
        }
        return roots.flatMap(flatten)
    }

    static func identity(_ object: [String: Any], sealed: Bool = false) -> String {
        let metadata = dictionary(object["metadata"]) ?? [:]
        var kind = object["kind"] as? String ?? "-"
        if sealed && kind == "Secret" { kind = "SealedSecret" }
        return "\(kind)/\(metadata["namespace"] as? String ?? "-")/\(metadata["name"] as? String ?? "-")"
    }

    static func manifestFiles(_ tree: URL) -> [String] {
        ((FileManager.default.enumerator(atPath: tree.path)?.allObjects as? [String]) ?? [])
            .filter { ["yaml", "yml", "json"].contains(($0 as NSString).pathExtension) && !$0.hasPrefix("chart/templates/") }
            .sorted()
    }

    /// The scope annotations a SealedSecret carries, by scope name.
    static func sealFixture(_ name: String, scope: String, value: String, in dir: URL) throws -> String {
        let plain = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \(name)\n  namespace: prod\nstringData:\n  value: \(value)\n"
        try plain.write(to: dir.appendingPathComponent("plain-\(name).yaml"), atomically: true, encoding: .utf8)
        let sealed = try CLITests.sealant(["seal", "-f", "plain-\(name).yaml", "--cert", "keys/tls.crt", "--scope", scope], in: dir)
        #expect(sealed.status == 0, "\(sealed.stderr)")
        try FileManager.default.removeItem(at: dir.appendingPathComponent("plain-\(name).yaml"))
        return sealed.stdout
    }

    @Test("scan reports every plain Secret key and the ConfigMap/env/values/kustomize hits, --fix seals them, files keep their objects, unseal gives the values back")
    func acceptance() throws {
        let dir = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLITests.sealant(["keygen", "--out", "keys"], in: dir).status == 0)
        let tree = dir.appendingPathComponent("tree")
        let (values, expected) = try Self.materialize(into: tree)
        #expect(expected.filter { $0.rule == "kubernetes-secret-manifest" }.count >= 8)

        // SealedSecrets of every scope, sealed now with the generated key.
        var sealedValues: [String] = []
        var sealedText = ""
        for scope in ["strict", "namespace-wide", "cluster-wide"] {
            let value = Self.randomValue()
            sealedValues.append(value)
            sealedText += try Self.sealFixture("sealed-\(scope)", scope: scope, value: value, in: dir)
        }
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("sealed"), withIntermediateDirectories: true)
        try sealedText.write(to: tree.appendingPathComponent("sealed/sealed-secrets.yaml"), atomically: true, encoding: .utf8)
        #expect(sealedText.components(separatedBy: "kind: SealedSecret").count == 4)

        // Before: what the files hold.
        var before: [String: [[String: Any]]] = [:]
        for file in Self.manifestFiles(tree) { before[file] = try Self.objects(in: tree.appendingPathComponent(file)) }

        // 1. The scan.
        let scan = try CLITests.sealant(["scan", "tree", "--no-git", "-f", "json"], in: dir)
        #expect(scan.status == 1, "\(scan.stderr)")
        let found = try CLITests.findings(scan.stdout)
        func covers(_ f: [String: Any], _ e: Expectation) -> Bool {
            guard f["File"] as? String == "tree/" + e.file, let start = f["StartLine"] as? Int, let end = f["EndLine"] as? Int else { return false }
            return start <= e.line && e.line <= end && (e.rule == nil || f["RuleID"] as? String == e.rule)
        }
        for e in expected {
            #expect(found.contains { covers($0, e) }, "\(e.name) at \(e.file):\(e.line) not reported by \(e.rule ?? "any rule")")
        }
        let secretFindings = found.filter { $0["RuleID"] as? String == "kubernetes-secret-manifest" }
        #expect(secretFindings.count == expected.filter { $0.rule == "kubernetes-secret-manifest" }.count)
        #expect(!found.contains { ($0["File"] as? String)?.hasPrefix("tree/sealed/") == true || ($0["File"] as? String)?.hasPrefix("tree/chart/templates/") == true },
                "\(found.map { "\($0["File"] ?? ""):\($0["StartLine"] ?? "")" })")
        #expect(!found.contains { f in sealedValues.contains { (f["Secret"] as? String)?.contains($0) == true } })
        // ConfigMap, env and values files: exactly the credential lines, each once.
        for file in ["app/config.yaml", "chart/values.yaml", "app/list.json"] {
            let here = found.filter { $0["File"] as? String == "tree/" + file && $0["RuleID"] as? String != "kubernetes-secret-manifest" }
            let wanted = expected.filter { $0.file == file && $0.rule != "kubernetes-secret-manifest" }
            #expect(here.count == wanted.count, "\(file): \(here.map { "\($0["RuleID"] ?? "")@\($0["StartLine"] ?? "")" })")
            #expect(here.allSatisfy { f in wanted.contains { covers(f, $0) } })
        }
        #expect(scan.stderr.contains("sealant seal --in-place"))
        #expect(scan.stderr.contains("move each into a Secret"), "\(scan.stderr)")

        // 2. --fix seals in place; what is left is only what sealing cannot fix.
        let fix = try CLITests.sealant(["scan", "tree", "--no-git", "--fix", "--cert", "keys/tls.crt", "-f", "json"], in: dir)
        #expect(fix.status == 1, "\(fix.stderr)")
        #expect(fix.stderr.contains("no plain Secrets left"), "\(fix.stderr)")
        for file in ["app/secrets.yaml", "app/list.yaml", "app/secret.json", "app/list.json"] {
            #expect(fix.stderr.contains("in tree/\(file)"), "\(file) not sealed: \(fix.stderr)")
        }
        let rescan = try CLITests.sealant(["scan", "tree", "--no-git", "-f", "json"], in: dir)
        let left = try CLITests.findings(rescan.stdout)
        #expect(!left.contains { ["kubernetes-secret-manifest", "sealedsecret-unsealed-value"].contains($0["RuleID"] as? String ?? "") },
                "\(left.map { "\($0["RuleID"] ?? "")@\($0["File"] ?? ""):\($0["StartLine"] ?? "")" })")
        for rule in ["kubernetes-configmap-credential", "kubernetes-env-credential", "helm-values-credential", "kustomize-secret-literal"] {
            #expect(left.filter { $0["RuleID"] as? String == rule }.count == found.filter { $0["RuleID"] as? String == rule }.count, "\(rule)")
        }
        for name in values.keys where name.hasPrefix("SECRET_") {
            let value = values[name] ?? ""
            for file in Self.manifestFiles(tree) {
                let text = try String(contentsOf: tree.appendingPathComponent(file), encoding: .utf8)
                #expect(!text.contains(value) && !text.contains(Data(value.utf8).base64EncodedString()), "\(name) still readable in \(file)")
            }
        }

        // 3. Every file still parses as the same objects in the same order (Secrets now SealedSecrets).
        var sealedObjects: [[String: Any]] = []
        for file in Self.manifestFiles(tree) {
            let after = try Self.objects(in: tree.appendingPathComponent(file))
            #expect(after.map { Self.identity($0) } == (before[file] ?? []).map { Self.identity($0, sealed: true) }, "\(file)")
            if file != "sealed/sealed-secrets.yaml" { sealedObjects += after.filter { $0["kind"] as? String == "SealedSecret" } }
        }

        // 4. Unsealing with the key gives back every original value byte for byte.
        let originals = before.values.flatMap { $0 }.filter { $0["kind"] as? String == "Secret" }
        #expect(sealedObjects.count == originals.count)
        for sealed in sealedObjects {
            let one = dir.appendingPathComponent("one.json")
            try JSONSerialization.data(withJSONObject: sealed).write(to: one)
            let unsealed = try CLITests.sealant(["unseal", "--key", "keys/tls.key", "-f", "one.json", "-o", "json"], in: dir)
            #expect(unsealed.status == 0, "\(unsealed.stderr)")
            let secret = try JSONSerialization.jsonObject(with: Data(unsealed.stdout.utf8)) as? [String: Any] ?? [:]
            let got = ((secret["data"] as? [String: String]) ?? [:]).mapValues { Data(base64Encoded: $0) ?? Data() }
            guard let original = originals.first(where: { Self.identity($0) == Self.identity(secret) }) else {
                Issue.record("no original Secret for \(Self.identity(secret))")
                continue
            }
            var want: [String: Data] = [:]
            for (key, value) in Self.dictionary(original["data"]) ?? [:] { want[key] = Data(base64Encoded: value as? String ?? "") }
            for (key, value) in Self.dictionary(original["stringData"]) ?? [:] { want[key] = Data((value as? String ?? "").utf8) }
            #expect(got == want, "\(Self.identity(secret))")
        }
    }

    @Test("pre-commit: a staged plain Secret manifest (YAML or JSON) fails scan --staged with the command that seals it")
    func stagedSecretManifest() throws {
        for (file, text) in [("deploy/db.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: \(Self.randomValue())\n"),
                             ("deploy/db.json", #"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "\#(Data(Self.randomValue().utf8).base64EncodedString())"}}"#)] {
            let dir = try CLITests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            try CLITests.git(["init", "-q"], in: dir)
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("deploy"), withIntermediateDirectories: true)
            try text.write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
            try CLITests.git(["add", file], in: dir)
            let staged = try CLITests.sealant(["scan", "--staged", "-f", "json"], in: dir)
            #expect(staged.status == 1, "\(file): \(staged.stderr)")
            #expect(try CLITests.findings(staged.stdout).contains { $0["RuleID"] as? String == "kubernetes-secret-manifest" && $0["File"] as? String == file })
            #expect(staged.stderr.contains("sealant seal --in-place \(file) --cert CERT.pem"), "\(staged.stderr)")
            #expect(staged.stderr.contains("git add \(file)"), "\(staged.stderr)")
        }
    }

    @Test("pre-commit: a key added to an already committed Secret is reported at its line (only it), with the sealing command; --pre-commit too")
    func keyAddedToCommittedSecret() throws {
        let dir = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try CLITests.git(["init", "-q"], in: dir)
        try CLITests.git(["config", "user.email", "dev@example.test"], in: dir)
        try CLITests.git(["config", "user.name", "Dev"], in: dir)
        let file = "deploy/app.yaml"
        let url = dir.appendingPathComponent(file)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let old = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  username: \(Self.randomValue())\n"
        try old.write(to: url, atomically: true, encoding: .utf8)
        try CLITests.git(["add", file], in: dir)
        try CLITests.git(["commit", "-q", "--no-verify", "-m", "app secret"], in: dir)
        // The change adds one key (line 7) to the existing Secret; the added line alone says nothing about a Secret.
        try (old + "  api-token: \(Self.randomValue())\n").write(to: url, atomically: true, encoding: .utf8)
        for arguments in [["scan", "--pre-commit", "-f", "json"], ["scan", "--staged", "-f", "json"]] {
            if arguments.contains("--staged") { try CLITests.git(["add", file], in: dir) }
            let run = try CLITests.sealant(arguments, in: dir)
            #expect(run.status == 1, "\(arguments): \(run.stderr)")
            let manifest = try CLITests.findings(run.stdout).filter { $0["RuleID"] as? String == "kubernetes-secret-manifest" }
            #expect(manifest.count == 1, "\(arguments): \(run.stdout)")
            #expect(manifest.first?["StartLine"] as? Int == 7)
            #expect(run.stderr.contains("sealant seal --in-place \(file) --cert CERT.pem"), "\(run.stderr)")
        }
    }
}

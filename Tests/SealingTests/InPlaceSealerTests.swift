import Foundation
import Testing
@testable import Sealing

/// `seal --in-place`: only Secret documents change; every other byte stays.
@Suite struct InPlaceSealerTests {
    static func sealer() throws -> InPlaceSealer {
        InPlaceSealer(sealer: Sealer(publicKey: try TestSupport.pair().certificate.publicKey()))
    }

    static let before = "# file header\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg  # inline\ndata:\n  a: \"1\"\n"
    static let secretDoc = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: prod\nstringData:\n  token: plain-token-value  # goes\n"
    static let after = "--- # third\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n...\n"

    @Test func replacesOnlyTheSecretDocument() throws {
        let text = Self.before + "---\n# about the secret\n\n" + Self.secretDoc + "# after the secret\n\n" + Self.after
        let (output, replacements) = try Self.sealer().rewrite(text, source: "app.yaml")
        #expect(replacements == [.init(document: 2, line: 11, secret: "prod/creds")])
        #expect(output.hasPrefix(Self.before + "---\n# about the secret\n\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"))
        #expect(output.hasSuffix("      namespace: prod\n# after the secret\n\n" + Self.after))
        #expect(!output.contains("plain-token-value"))
        // The new document unseals to the original value.
        let sealedText = output.components(separatedBy: "---\n")[1].components(separatedBy: "--- # third")[0]
        let sealed = try Documents.sealedSecrets(in: sealedText, source: "x")[0]
        #expect(try Unsealer(keys: [TestSupport.pair().privateKey]).unseal(sealed).data["token"] == Array("plain-token-value".utf8))
    }

    @Test func secretAsFirstDocumentAndCRLF() throws {
        let text = (Self.secretDoc + "---\n" + Self.before).replacingOccurrences(of: "\n", with: "\r\n")
        let (output, replacements) = try Self.sealer().rewrite(text, source: "crlf.yaml")
        #expect(replacements.map(\.document) == [1])
        #expect(output.hasPrefix("apiVersion: bitnami.com/v1alpha1\r\nkind: SealedSecret\r\n"))
        #expect(output.hasSuffix("---\r\n" + Self.before.replacingOccurrences(of: "\n", with: "\r\n")))
        #expect(!output.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func fileWithoutSecretsIsUntouched() throws {
        let (output, replacements) = try Self.sealer().rewrite(Self.before + "---\n" + Self.after, source: "x.yaml")
        #expect(replacements.isEmpty)
        #expect(output == Self.before + "---\n" + Self.after)
    }

    @Test func directoriesDryRunAndErrors() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sub = directory.appendingPathComponent("sub")
        let hidden = directory.appendingPathComponent(".git")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: hidden, withIntermediateDirectories: true)
        let good = directory.appendingPathComponent("a.yaml").path
        let json = sub.appendingPathComponent("b.json").path
        let bad = sub.appendingPathComponent("c.yml").path
        let ignored = hidden.appendingPathComponent("d.yaml").path
        let text = Self.before + "---\n" + Self.secretDoc
        try AtomicFileWriter.write(text, to: good)
        try AtomicFileWriter.write(#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"j","namespace":"n"},"data":{"a":"YQ=="}}"#, to: json)
        let badText = "apiVersion: v1\nkind: Secret\nmetadata:\n  namespace: n\nstringData:\n  k: v\n" // no name
        try AtomicFileWriter.write(badText, to: bad)
        try AtomicFileWriter.write(Self.secretDoc, to: ignored)
        try AtomicFileWriter.write("not yaml at all: [", to: sub.appendingPathComponent("notes.txt").path)

        let dry = try Self.sealer().seal(paths: [directory.path], dryRun: true)
        #expect(dry.results.map(\.path) == [good, json])
        #expect(dry.errors.map(\.path) == [bad])
        #expect(dry.errors.first?.message.contains("missing metadata.name") == true)
        #expect(try String(contentsOfFile: good, encoding: .utf8) == text)

        let real = try Self.sealer().seal(paths: [directory.path], dryRun: false)
        #expect(real.results.flatMap(\.replacements).count == 2)
        #expect(try String(contentsOfFile: good, encoding: .utf8).contains("kind: SealedSecret"))
        #expect(try String(contentsOfFile: json, encoding: .utf8).hasPrefix("{\n  \"kind\": \"SealedSecret\""))
        #expect(try String(contentsOfFile: bad, encoding: .utf8) == badText)
        #expect(try String(contentsOfFile: ignored, encoding: .utf8) == Self.secretDoc)
        // Nothing but our files in the directories: no temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: sub.path).sorted() == ["b.json", "c.yml", "notes.txt"])
    }

    @Test func unparsableDocumentThatLooksLikeASecretIsAnError() throws {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Values.name }}\nstringData:\n  k: v\n"
        #expect(throws: InPlaceSealer.FileError.self) { try Self.sealer().rewrite(text, source: "helm.yaml") }
    }

    static func unseal(_ value: ManifestValue) throws -> Secret {
        try Unsealer(keys: [TestSupport.pair().privateKey]).unseal(try SealedSecret(manifest: value, source: "x"))
    }

    @Test func jsonSecretAmongOtherObjectsIsReplacedInPlace() throws {
        let configMap = """
          {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cfg"},
            "data": {"a": "1"}
          }
        """
        let secret = #"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "j", "namespace": "n"}, "stringData": {"k": "json-value"}}"#
        for wrap in [("[\n", configMap + ",\n  " + secret + "\n]\n"),
                     ("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n", configMap + ",\n  " + secret + "\n]}\n")] {
            let text = wrap.0 + wrap.1
            let (output, replacements) = try Self.sealer().rewrite(text, source: "all.json")
            #expect(replacements == [.init(document: 2, line: 8, secret: "n/j")])
            // Everything before the Secret is untouched, and the tail closes the same way.
            #expect(output.hasPrefix(wrap.0 + configMap + ",\n  {\n    \"kind\": \"SealedSecret\",\n    \"apiVersion\": \"bitnami.com/v1alpha1\""))
            #expect(output.hasSuffix("\n  }\n" + (wrap.0.hasPrefix("[") ? "]\n" : "]}\n")))
            #expect(!output.contains("json-value"))
            let objects = try ManifestReader.documents(in: output, source: "x")
            let items: [ManifestValue]
            if case .array(let list)? = objects.first?.object?["items"] { items = list } else if case .array(let list)? = objects.first { items = list } else { items = [] }
            #expect(items.map { $0.object?["kind"]?.string } == ["ConfigMap", "SealedSecret"])
            #expect(try Self.unseal(items[1]).data["k"] == Array("json-value".utf8))
        }
    }

    @Test func jsonWithByteOrderMarkAndCRLF() throws {
        let text = "\u{FEFF}{\r\n  \"kind\": \"Secret\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"b\"}, \"data\": {\"x\": \"eA==\"}\r\n}\r\n"
        let (output, replacements) = try Self.sealer().rewrite(text, source: "bom.json")
        #expect(replacements.map(\.secret) == ["default/b"])
        #expect(output.hasPrefix("\u{FEFF}{\r\n  \"kind\": \"SealedSecret\""))
        #expect(!output.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func concatenatedJSONObjects() throws {
        let text = #"{"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "a"}, "data": {"x": "eA=="}}"# + "\n"
            + #"{"kind": "Service", "apiVersion": "v1", "metadata": {"name": "s"}}"# + "\n"
        let (output, replacements) = try Self.sealer().rewrite(text, source: "two.json")
        #expect(replacements.map(\.line) == [1])
        #expect(output.hasSuffix("}\n" + #"{"kind": "Service", "apiVersion": "v1", "metadata": {"name": "s"}}"# + "\n"))
        #expect(try ManifestReader.documents(in: output, source: "x").map { $0.object?["kind"]?.string } == ["SealedSecret", "Service"])
    }

    @Test func yamlListSecretsAreReplacedAndOtherItemsKeepTheirLines() throws {
        let configMap = "- apiVersion: v1\n  kind: ConfigMap  # keep me\n  metadata:\n    name: cfg\n  data:\n    a: \"1\"\n"
        let secret = "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n    namespace: prod\n  stringData:\n    token: list-token-value\n"
        let text = "apiVersion: v1\nkind: List\nitems:\n" + configMap + "# between\n" + secret + "metadata:\n  resourceVersion: \"\"\n---\nkind: Service\n"
        let (output, replacements) = try Self.sealer().rewrite(text, source: "list.yaml")
        #expect(replacements == [.init(document: 1, line: 11, secret: "prod/s")])
        #expect(output.hasPrefix("apiVersion: v1\nkind: List\nitems:\n" + configMap + "# between\n- apiVersion: bitnami.com/v1alpha1\n  kind: SealedSecret\n"))
        #expect(output.hasSuffix("metadata:\n  resourceVersion: \"\"\n---\nkind: Service\n"))
        #expect(!output.contains("list-token-value"))
        let documents = try ManifestReader.documents(in: output, source: "x")
        guard case .array(let items)? = documents.first?.object?["items"] else { Issue.record("no items"); return }
        #expect(items.map { $0.object?["kind"]?.string } == ["ConfigMap", "SealedSecret"])
        #expect(try Self.unseal(items[1]).data["token"] == Array("list-token-value".utf8))
        #expect(documents.count == 2)

        // Indented items, and a flow-style List that can only be written anew.
        let indented = "kind: List\napiVersion: v1\nitems:\n  " + secret.replacingOccurrences(of: "\n  ", with: "\n    ")
        let (indentedOutput, _) = try Self.sealer().rewrite(indented, source: "i.yaml")
        #expect(indentedOutput.hasPrefix("kind: List\napiVersion: v1\nitems:\n  - apiVersion: bitnami.com/v1alpha1\n    kind: SealedSecret\n"))
        let flow = "kind: List\napiVersion: v1\nitems: [{kind: Secret, apiVersion: v1, metadata: {name: f}, stringData: {k: flow-value}}, {kind: Service, apiVersion: v1, metadata: {name: s}}]\n"
        let (flowOutput, flowReplacements) = try Self.sealer().rewrite(flow, source: "f.yaml")
        #expect(flowReplacements.map(\.secret) == ["default/f"])
        guard case .array(let flowItems)? = try ManifestReader.documents(in: flowOutput, source: "x").first?.object?["items"] else { Issue.record("no items"); return }
        #expect(flowItems.map { $0.object?["kind"]?.string } == ["SealedSecret", "Service"])
        #expect(!flowOutput.contains("flow-value"))
    }

    @Test func invalidSecretInAListNamesTheItem() throws {
        let text = "kind: List\napiVersion: v1\nitems:\n- kind: ConfigMap\n  apiVersion: v1\n  metadata: {name: c}\n- kind: Secret\n  apiVersion: v1\n  stringData: {k: list-item-value}\n"
        do {
            _ = try Self.sealer().rewrite(text, source: "bad-list.yaml")
            Issue.record("a Secret without a name was sealed")
        } catch let error as InPlaceSealer.FileError {
            #expect(error.path == "bad-list.yaml")
            #expect(error.message.contains("document 1, item 2"), "\(error.message)")
            #expect(!error.message.contains("list-item-value"))
        }
    }

    @Test func listWithoutSecretsIsUntouched() throws {
        let text = "kind: List\napiVersion: v1\nitems:\n- kind: ConfigMap\n  apiVersion: v1\n  metadata: {name: c}\n"
        let (output, replacements) = try Self.sealer().rewrite(text, source: "l.yaml")
        #expect(replacements.isEmpty)
        #expect(output == text)
    }

    @Test("atomic writes keep an existing file's permissions, use 0644 for a new file, and apply an explicit mode")
    func atomicWritePermissions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sealant-perm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func mode(_ path: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
        let existing = dir.appendingPathComponent("sealed.yaml").path
        #expect(FileManager.default.createFile(atPath: existing, contents: Data("old\n".utf8), attributes: [.posixPermissions: 0o600]))
        try AtomicFileWriter.write("new\n", to: existing)
        #expect(try mode(existing) == 0o600)
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "new\n")
        let fresh = dir.appendingPathComponent("fresh.yaml").path
        try AtomicFileWriter.write("x\n", to: fresh)
        #expect(try mode(fresh) == 0o644)
        try AtomicFileWriter.write("y\n", to: fresh, mode: 0o640)
        #expect(try mode(fresh) == 0o640)
    }
}

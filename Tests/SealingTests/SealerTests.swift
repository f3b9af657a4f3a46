import Foundation
import Testing
@testable import Sealing

/// Sealing Secrets the way kubeseal does.
@Suite struct SealerTests {
    static func sealer() throws -> Sealer { Sealer(publicKey: try TestSupport.pair().certificate.publicKey()) }
    static func unsealer() throws -> Unsealer { Unsealer(keys: [try TestSupport.pair().privateKey]) }

    static let fullSecret = """
    apiVersion: v1
    kind: Secret
    metadata:
      name: app
      namespace: prod
      uid: 3f1c0a6e-0000-0000-0000-000000000000
      resourceVersion: "12345"
      creationTimestamp: "2024-01-01T00:00:00Z"
      generation: 3
      labels:
        app: web
      annotations:
        kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"token":"leaky-plaintext"}}'
        team: payments
      ownerReferences:
      - apiVersion: v1
        kind: Pod
        name: owner
        uid: abc
      managedFields:
      - manager: kubectl
    type: Opaque
    immutable: true
    data:
      token: b3ZlcnJpZGRlbg==
      cert: AAECAw==
    stringData:
      token: leaky-plaintext
    """

    @Test func sealsDataAndStringDataAndStripsServerFields() throws {
        let sealed = try Documents.seal(Self.fullSecret, source: "in", sealer: Self.sealer(), options: SealOptions())
        #expect(sealed.count == 1)
        let output = try ManifestWriter.yaml(sealed[0].manifest())
        #expect(!output.contains("leaky-plaintext"))
        #expect(!output.contains("last-applied"))
        #expect(!output.contains("ownerReferences"))
        #expect(!output.contains("uid:")) // the key: random base64 ciphertext can hold the letters "uid"
        #expect(!output.contains("resourceVersion"))
        #expect(!output.contains("managedFields"))
        #expect(output.contains("team: payments"))
        #expect(output.contains("immutable: true"))
        #expect(output.hasPrefix("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app\n  namespace: prod\nspec:\n"))
        let secret = try Self.unsealer().unseal(sealed[0])
        #expect(secret.data["token"] == Array("leaky-plaintext".utf8)) // stringData wins
        #expect(secret.data["cert"] == [0, 1, 2, 3])
        #expect(secret.metadata.labels == ["app": "web"])
        #expect(secret.immutable == true)
        #expect(secret.type == "Opaque")
    }

    @Test func scopeComesFromAnnotationsOrTheFlag() throws {
        let input = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\nstringData:\n  k: v\n"
        let fromAnnotation = try Documents.seal(input, source: "in", sealer: Self.sealer(), options: SealOptions())[0]
        #expect(fromAnnotation.scope == .namespaceWide)
        #expect(fromAnnotation.metadata.namespace == "default")
        #expect(fromAnnotation.metadata.annotations == [SealingScope.namespaceWideAnnotation: "true"])
        // --scope strict does not remove an input annotation (same as upstream).
        #expect(try Documents.seal(input, source: "in", sealer: Self.sealer(), options: SealOptions(scope: .strict))[0].scope == .namespaceWide)
        let cluster = try Documents.seal(input, source: "in", sealer: Self.sealer(), options: SealOptions(scope: .clusterWide))[0]
        #expect(cluster.scope == .clusterWide)
        #expect(cluster.metadata.namespace == "") // cluster-wide keeps the input's (empty) namespace
        #expect(cluster.template.metadata?.annotations == [SealingScope.clusterWideAnnotation: "true"])
        #expect(try Self.unsealer().unseal(cluster).data["k"] == Array("v".utf8))
        // "True" is not "true".
        #expect(SealingScope(annotations: [SealingScope.clusterWideAnnotation: "True"]) == .strict)
        #expect(SealingScope(annotations: [SealingScope.clusterWideAnnotation: "true", SealingScope.namespaceWideAnnotation: "true"]) == .clusterWide)
    }

    @Test func namespaceAndNameOverrides() throws {
        let input = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  namespace: x\nstringData:\n  k: v\n"
        #expect(throws: ManifestError.self) {
            try Documents.seal(input, source: "in", sealer: Self.sealer(), options: SealOptions(namespace: "y"))
        }
        let renamed = try Documents.seal(input, source: "in", sealer: Self.sealer(), options: SealOptions(name: "b"))[0]
        #expect(renamed.metadata.displayName == "x/b")
        #expect(renamed.template.metadata?.name == "b")
        #expect(try Self.unsealer().unseal(renamed).data["k"] == Array("v".utf8))
        let noNamespace = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData:\n  k: v\n"
        #expect(try Documents.seal(noNamespace, source: "in", sealer: Self.sealer(), options: SealOptions(namespace: "y"))[0].metadata.namespace == "y")
    }

    @Test func emptySecretNeedsAllowEmptyData() throws {
        let input = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n"
        #expect(throws: ManifestError.self) { try Documents.seal(input, source: "in", sealer: Self.sealer(), options: SealOptions()) }
        let sealed = try Documents.seal(input, source: "in", sealer: Self.sealer(), options: SealOptions(allowEmptyData: true))
        #expect(sealed[0].encryptedData.isEmpty)
        #expect(try ManifestWriter.yaml(sealed[0].manifest()).contains("encryptedData: {}"))
    }

    @Test func multiDocumentYAMLAndConcatenatedJSON() throws {
        let yaml = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {k: v}\n---\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\nstringData: {k: w}\n"
        #expect(try Documents.seal(yaml, source: "in", sealer: Self.sealer(), options: SealOptions()).map(\.metadata.name) == ["a", "b"])
        let json = #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"},"stringData":{"k":"v\u00e9"}}  {"apiVersion":"v1","kind":"Secret","metadata":{"name":"b"},"data":{"k":"AA=="}}"#
        let sealed = try Documents.seal(json, source: "in", sealer: Self.sealer(), options: SealOptions())
        #expect(sealed.map(\.metadata.name) == ["a", "b"])
        #expect(try Self.unsealer().unseal(sealed[0]).data["k"] == Array("vé".utf8))
    }

    @Test func jsonOutputIsInGoStructOrder() throws {
        let input = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  namespace: n\n  labels: {z: '1', a: '2'}\ntype: Opaque\nstringData:\n  k: v\n"
        let sealed = try Documents.seal(input, source: "in", sealer: Self.sealer(), options: SealOptions())[0]
        let json = try ManifestWriter.render(sealed.manifest(), as: .json)
        let keys = json.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("\"") }.map { String($0.prefix { $0 != ":" }) }
        #expect(keys == ["\"kind\"", "\"apiVersion\"", "\"metadata\"", "\"name\"", "\"namespace\"", "\"spec\"", "\"template\"",
                         "\"metadata\"", "\"name\"", "\"namespace\"", "\"labels\"", "\"a\"", "\"z\"", "\"type\"", "\"encryptedData\"", "\"k\""])
        #expect(json.hasPrefix("{\n  \"kind\": \"SealedSecret\",\n  \"apiVersion\": \"bitnami.com/v1alpha1\",\n"))
        #expect(json.hasSuffix("}\n"))
        // Round trip through our JSON reader.
        let back = try Documents.sealedSecrets(in: json, source: "json")
        #expect(back.map { $0.manifest() } == [sealed.manifest()])
    }

    @Test func rawModeNeedsTheRightNames() throws {
        let sealer = try Self.sealer()
        #expect(throws: SealError.self) { try sealer.sealRaw([1], scope: .strict, namespace: "n", name: nil) }
        #expect(throws: SealError.self) { try sealer.sealRaw([1], scope: .namespaceWide, namespace: nil, name: nil) }
        let blob = try sealer.sealRaw(Array("v".utf8), scope: .strict, namespace: "n", name: "a")
        #expect(blob.hasPrefix("Ag"))
        #expect(try HybridCipher.open(base64: blob, keys: [TestSupport.pair().privateKey], label: Array("n/a".utf8)) == Array("v".utf8))
        #expect(try HybridCipher.open(base64: try sealer.sealRaw([], scope: .clusterWide, namespace: nil, name: nil), keys: [TestSupport.pair().privateKey], label: []) == [])
    }

    @Test func mergeIntoKeepsExistingItems() throws {
        let sealer = try Self.sealer()
        let first = try Documents.seal("apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: n, labels: {x: '1'}}\nstringData: {one: '1', two: '2'}\n",
                                       source: "in", sealer: sealer, options: SealOptions())[0]
        let update = try Documents.secrets(in: "apiVersion: v1\nkind: Secret\nmetadata: {name: ignored, labels: {y: '2'}}\nstringData: {two: 'II', three: '3'}\n", source: "in")[0]
        let merged = try sealer.merge(update, into: first)
        #expect(merged.metadata.displayName == "n/a")
        #expect(merged.encryptedData["one"] == first.encryptedData["one"])
        #expect(merged.template.metadata?.labels == ["x": "1", "y": "2"])
        let secret = try Self.unsealer().unseal(merged)
        #expect(secret.data == ["one": Array("1".utf8), "two": Array("II".utf8), "three": Array("3".utf8)])
    }

    @Test func reencryptKeepsScopeAndTemplate() throws {
        let old = try TestSupport.other()
        var template = SecretTemplate(type: "Opaque", data: ["dsn": "postgres://u:{{ .password }}@db"])
        var meta = ObjectMeta()
        meta.name = "db"
        meta.namespace = "n"
        meta.annotations = [SealingScope.namespaceWideAnnotation: "true"]
        template.metadata = meta
        let oldSealer = Sealer(publicKey: try old.certificate.publicKey())
        let sealed = SealedSecret(metadata: meta, template: template,
                                  encryptedData: try oldSealer.sealItems(["password": Array("pw".utf8)], label: Array("n".utf8)))
        let again = try Unsealer(keys: [old.privateKey]).reencrypt(sealed, with: Self.sealer())
        #expect(again.template == sealed.template)
        #expect(again.scope == .namespaceWide)
        #expect(throws: UnsealError.self) { try Unsealer(keys: [old.privateKey]).unseal(again) }
        #expect(try Self.unsealer().unseal(again).data["dsn"] == Array("postgres://u:pw@db".utf8))
    }

    @Test func unsealsSeveralSealedSecretsInOrder() throws {
        let text = (0 ..< 6).map { "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s\($0), namespace: n}\nstringData: {k: 'v\($0)'}\n" }.joined()
        var sealed = try Documents.seal(text, source: "in", sealer: Self.sealer(), options: SealOptions())
        let secrets = try Self.unsealer().unseal(sealed)
        #expect(secrets.map(\.metadata.name) == (0 ..< 6).map { "s\($0)" })
        #expect(secrets.map { $0.data["k"] ?? [] } == (0 ..< 6).map { Array("v\($0)".utf8) })
        sealed[4].metadata.name = "moved"
        do {
            _ = try Self.unsealer().unseal(sealed)
            Issue.record("a moved SealedSecret unsealed")
        } catch {
            #expect("\(error)".contains("n/moved"))
        }
    }

    @Test func legacySpecDataIsRead() throws {
        let pair = try TestSupport.pair()
        let inner = #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"old","namespace":"n"},"data":{"k":"dmFsdWU="}}"#
        let blob = try HybridCipher.seal(Array(inner.utf8), publicKey: pair.certificate.publicKey(), label: Array("n/old".utf8))
        let text = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: old\n  namespace: n\nspec:\n  data: \(Data(blob).base64EncodedString())\n"
        let sealed = try Documents.sealedSecrets(in: text, source: "legacy")[0]
        #expect(try Self.unsealer().unseal(sealed).data == ["k": Array("value".utf8)])
        let both = text + "  encryptedData:\n    x: AgAA\n"
        #expect(throws: ManifestError.self) { try Documents.sealedSecrets(in: both, source: "both") }
    }
}

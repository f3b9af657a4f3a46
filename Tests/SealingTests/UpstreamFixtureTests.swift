import Foundation
import Testing
@testable import Sealing

/// Interop with ciphertexts made by the upstream Go code.
@Suite struct UpstreamFixtureTests {
    struct Vector: Decodable {
        let scope: String
        let namespace: String
        let name: String
        let key: String
        let label_hex: String
        let ciphertext_b64: String
        let plaintext_b64: String
    }

    struct Vectors: Decodable {
        let items: [Vector]
        let key_fingerprint: String
    }

    static func vectors() throws -> Vectors {
        try JSONDecoder().decode(Vectors.self, from: Data(TestSupport.upstream("go-sealed.json")))
    }

    @Test func everyGoVectorOpensToTheExpectedBytes() throws {
        let key = try TestSupport.upstreamKey()
        let vectors = try Self.vectors()
        #expect(vectors.items.count == 21)
        for vector in vectors.items {
            let scope = try #require(SealingScope(rawValue: vector.scope))
            let label = scope.label(namespace: vector.namespace, name: vector.name)
            #expect(label.map { String(format: "%02x", $0) }.joined() == vector.label_hex)
            let plain = try HybridCipher.open(base64: vector.ciphertext_b64, keys: [key], label: label)
            #expect(plain == [UInt8](try #require(Data(base64Encoded: vector.plaintext_b64))), "\(vector.scope)/\(vector.key)")
        }
    }

    @Test func fingerprintMatchesUpstream() throws {
        let key = try TestSupport.upstreamKey()
        #expect(try KeyFingerprint.of(key) == (try Self.vectors().key_fingerprint))
        let certificate = try SealingCertificate(pem: TestSupport.upstream("cert.pem"), source: "cert.pem")
        #expect(try KeyFingerprint.of(certificate.publicKey) == (try Self.vectors().key_fingerprint))
    }

    @Test(arguments: ["strict", "namespace-wide", "cluster-wide"])
    func sealedSecretFixturesUnsealToTheExpectedItems(scope: String) throws {
        let text = String(decoding: try TestSupport.upstream("sealedsecret-\(scope).yaml"), as: UTF8.self)
        let documents = try ManifestReader.documents(in: text, source: scope)
        #expect(documents.count == 1)
        let sealed = try SealedSecret(manifest: documents[0], source: scope)
        #expect(sealed.scope.rawValue == scope)
        let secret = try Unsealer(keys: [try TestSupport.upstreamKey()]).unseal(sealed)
        let expected = try Self.vectors().items.filter { $0.scope == scope }
        #expect(secret.data.count == expected.count)
        for vector in expected {
            #expect(secret.data[vector.key] == [UInt8](try #require(Data(base64Encoded: vector.plaintext_b64))))
        }
        #expect(secret.metadata.name == "vector-secret")
        #expect(secret.metadata.namespace == "vectors-ns")
        #expect(secret.type == "Opaque")
    }

    @Test func ourYAMLLayoutMatchesTheFixtureLayout() throws {
        // Re-rendering a parsed fixture gives the same text except for creationTimestamp (which client-go 0.35 no longer prints).
        for scope in ["strict", "namespace-wide", "cluster-wide"] {
            let text = String(decoding: try TestSupport.upstream("sealedsecret-\(scope).yaml"), as: UTF8.self)
            let sealed = try SealedSecret(manifest: try ManifestReader.documents(in: text, source: scope)[0], source: scope)
            var withoutTimestamps = sealed
            withoutTimestamps.metadata.fields["creationTimestamp"] = nil
            withoutTimestamps.template.metadata?.fields["creationTimestamp"] = nil
            let rendered = try ManifestWriter.yaml(withoutTimestamps.manifest())
            let expected = text.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.contains("creationTimestamp: null") }.joined(separator: "\n")
            #expect(rendered == expected)
        }
    }
}

import Foundation
import Testing
@testable import Sealing

/// Everything that must fail, fails clearly, without leaking plaintext.
@Suite struct NegativeTests {
    static let plaintext = "correct-horse-battery-staple-91c2"

    static func sealedFixture(scope: SealingScope) throws -> SealedSecret {
        let pair = try TestSupport.pair()
        var secret = Secret(stringData: ["password": plaintext])
        secret.metadata.name = "db"
        secret.metadata.namespace = "team-a"
        return try Sealer(publicKey: pair.certificate.publicKey()).seal(secret, options: SealOptions(scope: scope))
    }

    static func unsealError(_ sealed: SealedSecret, keys: [RSAKey]? = nil) throws -> String {
        do {
            _ = try Unsealer(keys: keys ?? [try TestSupport.pair().privateKey]).unseal(sealed)
        } catch {
            let message = "\(error)"
            #expect(!message.contains(plaintext))
            return message
        }
        Issue.record("unsealing was expected to fail")
        return ""
    }

    @Test func strictValueMovedToAnotherNameFails() throws {
        var sealed = try Self.sealedFixture(scope: .strict)
        #expect(try Unsealer(keys: [TestSupport.pair().privateKey]).unseal(sealed).data["password"] == Array(Self.plaintext.utf8))
        sealed.metadata.name = "db-copy"
        let message = try Self.unsealError(sealed)
        #expect(message.contains("no key could decrypt secret"))
        #expect(message.contains("team-a/db-copy"))
        #expect(message.contains("\"password\""))
    }

    @Test func strictValueMovedToAnotherNamespaceFails() throws {
        var sealed = try Self.sealedFixture(scope: .strict)
        sealed.metadata.namespace = "team-b"
        #expect(try Self.unsealError(sealed).contains("no key could decrypt secret"))
    }

    @Test func namespaceWideValueMovedToAnotherNamespaceFails() throws {
        var sealed = try Self.sealedFixture(scope: .namespaceWide)
        sealed.metadata.name = "renamed" // allowed for namespace-wide
        #expect(try Unsealer(keys: [TestSupport.pair().privateKey]).unseal(sealed).data["password"] == Array(Self.plaintext.utf8))
        sealed.metadata.namespace = "team-b"
        #expect(try Self.unsealError(sealed).contains("no key could decrypt secret"))
    }

    @Test func clusterWideValueMovesFreely() throws {
        var sealed = try Self.sealedFixture(scope: .clusterWide)
        sealed.metadata.namespace = "elsewhere"
        sealed.metadata.name = "other"
        #expect(try Unsealer(keys: [TestSupport.pair().privateKey]).unseal(sealed).data["password"] == Array(Self.plaintext.utf8))
    }

    @Test func flippedTagByteFails() throws {
        var sealed = try Self.sealedFixture(scope: .strict)
        let text = try #require(sealed.encryptedData["password"])
        var blob = [UInt8](try #require(Data(base64Encoded: text)))
        blob[blob.count - 1] ^= 0x01
        sealed.encryptedData["password"] = Data(blob).base64EncodedString()
        #expect(try Self.unsealError(sealed).contains("no key could decrypt secret"))
    }

    @Test func truncatedBlobFails() throws {
        let pair = try TestSupport.pair()
        let blob = try HybridCipher.seal(Array("x".utf8), publicKey: pair.certificate.publicKey(), label: [])
        for length in [0, 1, 2, 100, 2 + 511] {
            #expect(throws: OpenError.tooShort(length: length)) {
                try HybridCipher.open(Array(blob.prefix(length)), keys: [pair.privateKey], label: [])
            }
        }
        var sealed = try Self.sealedFixture(scope: .strict)
        sealed.encryptedData["password"] = Data(blob.prefix(300)).base64EncodedString()
        #expect(try Self.unsealError(sealed).contains("too short"))
    }

    @Test func wrongKeyFails() throws {
        let sealed = try Self.sealedFixture(scope: .strict)
        let message = try Self.unsealError(sealed, keys: [try TestSupport.other().privateKey, try TestSupport.upstreamKey()])
        #expect(message.contains("2 keys tried"))
    }

    @Test func everyKeyIsTried() throws {
        let sealed = try Self.sealedFixture(scope: .strict)
        let keys = [try TestSupport.upstreamKey(), try TestSupport.other().privateKey, try TestSupport.pair().privateKey]
        #expect(try Unsealer(keys: keys).unseal(sealed).data["password"] == Array(Self.plaintext.utf8))
    }

    @Test func nonRSAKeyIsRefused() throws {
        let pem = try #require(FileManager.default.contents(atPath: TestSupport.fixtures.appendingPathComponent("ec-key.pem").path))
        #expect(throws: KeyError.notRSA(algorithm: "id-ecPublicKey")) { try RSAKey.privateKey(pem: [UInt8](pem)) }
        #expect(throws: KeyError.self) { try PrivateKeyLoader.keys(in: [UInt8](pem), source: "ec-key.pem") }
        let cert = try #require(FileManager.default.contents(atPath: TestSupport.fixtures.appendingPathComponent("ec-cert.pem").path))
        #expect(throws: KeyError.self) { try SealingCertificate(pem: [UInt8](cert), source: "ec-cert.pem") }
    }

    @Test func expiredCertificateIsRefused() throws {
        let pair = try TestSupport.pair()
        let expired = try Certificate.selfSigned(key: pair.privateKey, validFor: 3600, notBefore: Date(timeIntervalSinceNow: -7200))
        do {
            _ = try SealingCertificate(pem: Array(try expired.pem().utf8), source: "old.pem")
            Issue.record("an expired certificate was accepted")
        } catch let error as KeyError {
            #expect("\(error)".contains("failed to encrypt using an expired certificate"))
        }
    }

    @Test func malformedManifestFails() throws {
        let bad = "apiVersion: v1\nkind: Secret\nmetadata: [unclosed\n"
        #expect(throws: ManifestError.self) { try Documents.secrets(in: bad, source: "bad.yaml") }
        #expect(throws: ManifestError.self) { try Documents.secrets(in: "{\"kind\": \"Secret\", ", source: "bad.json") }
        #expect(throws: ManifestError(source: "cm.yaml", document: 1, "expected a Secret, found ConfigMap")) {
            try Documents.secrets(in: "kind: ConfigMap\napiVersion: v1\n", source: "cm.yaml")
        }
        #expect(throws: ManifestError(source: "empty.yaml", "no secrets found")) { try Documents.secrets(in: "---\n", source: "empty.yaml") }
        let badBase64 = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ndata:\n  k: '***'\n"
        #expect(throws: ManifestError.self) { try Documents.secrets(in: badBase64, source: "b.yaml") }
    }

    @Test func plaintextStaysOutOfErrorMessages() throws {
        let pair = try TestSupport.pair()
        let sealer = Sealer(publicKey: try pair.certificate.publicKey())
        let broken = [
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  password: \(Self.plaintext): [\n",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  password: \"\(Self.plaintext)\n",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ndata:\n  password: \(Self.plaintext)!!\n",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  password: [\(Self.plaintext)]\n",
            "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"x\"},\"stringData\":{\"password\":\"\(Self.plaintext)\"",
        ]
        for text in broken {
            do {
                _ = try Documents.seal(text, source: "in.yaml", sealer: sealer, options: SealOptions())
                Issue.record("sealing malformed input succeeded")
            } catch {
                #expect(!"\(error)".contains(Self.plaintext), "\(error)")
                #expect(!"\(error)".contains("\n"))
            }
        }
        // In-place: a failing file is left exactly as it was and no temporary file remains.
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("s.yaml").path
        try AtomicFileWriter.write(broken[1], to: path)
        let outcome = InPlaceSealer(sealer: sealer).seal(paths: [directory.path], dryRun: false)
        #expect(outcome.errors.count == 1)
        #expect(!outcome.errors.description.contains(Self.plaintext))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["s.yaml"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == broken[1])
    }

    @Test func secretWithoutNameFails() throws {
        let pair = try TestSupport.pair()
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  namespace: a\nstringData:\n  password: \(Self.plaintext)\n"
        do {
            _ = try Documents.seal(text, source: "noname.yaml", sealer: Sealer(publicKey: pair.certificate.publicKey()), options: SealOptions())
            Issue.record("sealing a Secret without a name succeeded")
        } catch {
            #expect("\(error)" == "noname.yaml: document 1: Secret is missing metadata.name")
        }
    }

    @Test func templateOutsideTheSubsetIsAnError() throws {
        var sealed = try Self.sealedFixture(scope: .strict)
        sealed.template.data = ["config": "{{ if .password }}yes{{ end }}"]
        #expect(try Self.unsealError(sealed).contains("'if' is not supported"))
        sealed.template.data = ["config": "{{ .password | sha256sum }}"]
        #expect(try Self.unsealError(sealed).contains("function \"sha256sum\" is not supported"))
        sealed.template.data = ["config": "{{ .missing }}"]
        #expect(try Self.unsealError(sealed).contains("no item named \"missing\""))
    }
}

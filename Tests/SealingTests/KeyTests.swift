import Foundation
import Testing
@testable import Sealing

/// Keys, certificates and the controller key Secret.
@Suite struct KeyTests {
    @Test func generatedCertificateIsInTheControllerStyle() throws {
        let pair = try TestSupport.pair()
        #expect(pair.privateKey.bits == 4096)
        let certificate = pair.certificate
        #expect(certificate.subject == "")
        #expect(certificate.isCA)
        #expect(certificate.keyUsage & 0x0001 != 0) // encipherOnly
        let notBefore = try #require(certificate.notBefore)
        let notAfter = try #require(certificate.notAfter)
        #expect(abs(notAfter.timeIntervalSince(notBefore) - 87_600 * 3600) < 2)
        #expect(try certificate.publicKey().hasSamePublicKey(as: pair.privateKey))
        let text = try certificate.pem()
        #expect(text.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
    }

    @Test func pemRoundTripsInBothPrivateKeyFormats() throws {
        let key = try TestSupport.pair().privateKey
        let pkcs1 = try key.privateKeyPEM()
        let pkcs8 = try key.privateKeyPEM(pkcs8: true)
        #expect(pkcs1.hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        #expect(pkcs8.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try RSAKey.privateKey(pem: Array(pkcs1.utf8)).hasSamePublicKey(as: key))
        #expect(try RSAKey.privateKey(pem: Array(pkcs8.utf8)).hasSamePublicKey(as: key))
        #expect(try KeyFingerprint.of(key) == KeyFingerprint.of(try TestSupport.pair().certificate.publicKey()))
    }

    @Test func controllerKeySecretRoundTripsAndLoads() throws {
        let pair = try TestSupport.pair()
        let secret = try pair.controllerSecret(name: "sealed-secrets-keyabcde", namespace: "kube-system")
        let yaml = try ManifestWriter.yaml(secret.manifest())
        #expect(yaml.contains("type: kubernetes.io/tls"))
        #expect(yaml.contains("sealedsecrets.bitnami.com/sealed-secrets-key: active"))
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let listJSON = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" + ManifestWriter.compactJSON(secret.manifest()) + "]}"
        try AtomicFileWriter.write(yaml, to: directory.appendingPathComponent("key.yaml").path)
        try AtomicFileWriter.write(listJSON, to: directory.appendingPathComponent("list.json").path)
        try AtomicFileWriter.write(try pair.privateKey.privateKeyPEM(pkcs8: true), to: directory.appendingPathComponent("key.pem").path)
        try AtomicFileWriter.write("not a key", to: directory.appendingPathComponent("README").path)
        let keys = try PrivateKeyLoader.load(paths: [directory.path])
        #expect(keys.count == 3)
        #expect(keys.allSatisfy { $0.hasSamePublicKey(as: pair.privateKey) })
        let loaded = try ControllerKeySecret.keyPair(from: try Documents.secrets(in: yaml, source: "k")[0], source: "k")
        #expect(try loaded.certificate.pem() == (try pair.certificate.pem()))
        #expect(throws: KeyError.self) { try PrivateKeyLoader.load(paths: [directory.appendingPathComponent("README").path]) }
        #expect(try ControllerKeySecret.generatedName().count == "sealed-secrets-key".count + 5)
    }

    @Test func certificateSourcesAndOutputModes() async throws {
        let pair = try TestSupport.pair()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let certPath = directory.appendingPathComponent("cert.pem").path
        try AtomicFileWriter.write(try pair.certificate.pem() + (try TestSupport.other().certificate.pem()), to: certPath)
        // The first certificate of the file is the one used, from a path or a file:// URL.
        for location in [certPath, "file://" + certPath] {
            let loaded = try await CertificateSource.load(location)
            #expect(loaded.publicKey.hasSamePublicKey(as: pair.privateKey))
        }
        await #expect(throws: KeyError.self) { try await CertificateSource.load(directory.appendingPathComponent("missing.pem").path) }
        await #expect(throws: KeyError.self) {
            try await CertificateSource.load(certPath, now: Date(timeIntervalSinceNow: 87_601 * 3600))
        }
        // Files holding secrets are created with mode 0600, whatever the umask.
        let keyPath = directory.appendingPathComponent("tls.key").path
        try AtomicFileWriter.write(try pair.privateKey.privateKeyPEM(), to: keyPath, mode: 0o600)
        let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["cert.pem", "tls.key"])
    }

    @Test func upstreamKeyAndCertificateLoad() throws {
        let key = try TestSupport.upstreamKey()
        #expect(key.bits == 4096)
        let certificate = try SealingCertificate(pem: TestSupport.upstream("cert.pem"), source: "cert.pem")
        #expect(certificate.publicKey.hasSamePublicKey(as: key))
        // Ours and upstream's carry the same subject, CA flag and key usage.
        let ours = try TestSupport.pair().certificate
        #expect(certificate.certificate.subject == ours.subject)
        #expect(certificate.certificate.isCA == ours.isCA)
        #expect(certificate.certificate.keyUsage == ours.keyUsage)
    }
}

import Foundation
import Sealing
import Testing
@testable import Controller

@Suite("Key registry over a local key directory")
struct KeyRegistryTests {
    @Test func createsTheFirstKeyAndReusesItAfterARestart() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = LocalKeyDirectory(path: directory + "/keys")
        let registry = KeyRegistry(store: store, generation: KeyGenerationOptions(bits: 2048), logger: quietLogger)
        try await registry.start(cutoff: nil)
        let first = try #require(await registry.snapshot().newest)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory + "/keys")
        #expect(files == [first.name + ".yaml"])
        #expect(first.name.hasPrefix("sealed-secrets-key"))
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/keys/" + files[0])
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        // A restart loads the same key instead of making a new one.
        let again = KeyRegistry(store: store, generation: KeyGenerationOptions(bits: 2048), logger: quietLogger)
        try await again.start(cutoff: nil)
        #expect(await again.snapshot().keys.map(\.fingerprint) == [first.fingerprint])
        // What was written is a Secret other tools read: sealant's offline unseal loads it.
        #expect(try PrivateKeyLoader.load(paths: [directory + "/keys"]).count == 1)
    }

    @Test func cutoffTimeAddsAKeyAtStart() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeKeySecret(try Fixtures.upstreamKeyPair(), name: "upstream", into: directory)
        let registry = KeyRegistry(store: LocalKeyDirectory(path: directory), generation: KeyGenerationOptions(bits: 2048), logger: quietLogger)
        try await registry.start(cutoff: Date().addingTimeInterval(60))
        let keys = await registry.snapshot().keys
        #expect(keys.count == 2)
        #expect(keys.first?.name != "upstream", "the new key is the newest and seals")
        #expect(keys.last?.name == "upstream", "the old key is kept for decrypting")
    }

    @Test func reloadPicksUpAddedRelabelledAndRemovedKeys() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let registry = KeyRegistry(store: LocalKeyDirectory(path: directory), generation: KeyGenerationOptions(bits: 2048), logger: quietLogger)
        try await registry.start(cutoff: nil)
        let generated = try #require(await registry.snapshot().newest)

        let upstream = try Fixtures.upstreamKeyPair()
        try writeKeySecret(upstream, name: "upstream", into: directory)
        var change = try await registry.reload()
        #expect(change.added == [try KeyFingerprint.of(upstream.privateKey)])
        #expect(await registry.snapshot().keys.count == 2)
        #expect(await registry.snapshot().newest?.fingerprint == generated.fingerprint, "newest by certificate NotBefore")

        try writeKeySecret(upstream, name: "upstream", into: directory, label: "compromised")
        change = try await registry.reload()
        #expect(change.removed == [try KeyFingerprint.of(upstream.privateKey)])
        #expect(await registry.snapshot().keys.map(\.fingerprint) == [generated.fingerprint])

        try FileManager.default.removeItem(atPath: directory + "/\(generated.name).yaml")
        try writeKeySecret(upstream, name: "upstream", into: directory)
        change = try await registry.reload()
        #expect(await registry.snapshot().keys.map(\.name) == ["upstream"])
    }

    @Test func unreadableKeyFilesAreSkipped() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeKeySecret(try Fixtures.upstreamKeyPair(), name: "upstream", into: directory)
        try """
        apiVersion: v1
        kind: Secret
        metadata:
          name: broken
          labels:
            sealedsecrets.bitnami.com/sealed-secrets-key: active
        type: kubernetes.io/tls
        data:
          tls.key: bm90IGEga2V5
        """.write(toFile: directory + "/broken.yaml", atomically: true, encoding: .utf8)
        let registry = KeyRegistry(store: LocalKeyDirectory(path: directory), generation: KeyGenerationOptions(bits: 2048), logger: quietLogger)
        try await registry.start(cutoff: nil)
        #expect(await registry.snapshot().keys.map(\.name) == ["upstream"])
    }

    @Test func renewalScheduleCountsFromTheNewestKey() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let registry = KeyRegistry(store: LocalKeyDirectory(path: directory), generation: KeyGenerationOptions(bits: 2048),
                                   order: .secretCreationTimestamp, logger: quietLogger)
        let created = Date().addingTimeInterval(-3600)
        try writeKeySecret(try Fixtures.upstreamKeyPair(), name: "upstream", into: directory, created: created)
        try await registry.start(cutoff: nil)
        let wait = await registry.secondsUntilRenewal(period: 7200)
        #expect(abs(wait - 3600) < 5)
        #expect(await registry.secondsUntilRenewal(period: 600) == 0)
        try await registry.addKey(reason: "test")
        #expect(await registry.secondsUntilRenewal(period: 7200) > 7000)
        #expect(await registry.snapshot().keys.count == 2)
    }
}

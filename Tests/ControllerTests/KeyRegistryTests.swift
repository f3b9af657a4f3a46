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

@Suite("Key registry over Kubernetes Secrets (stand-in API server)", .serialized)
struct KubernetesKeyStoreTests {
    static func keySecret(_ pair: KeyPair, name: String, label: String?) throws -> ManifestObject {
        var secret = try pair.controllerSecret(name: name, namespace: "kube-system")
        secret.metadata.labels = label.map { [ControllerKeySecret.activeLabel: $0] } ?? [:]
        return try #require(secret.manifest().object)
    }

    @Test func createsListsRelabelsAndLoadsTheLegacyKey() async throws {
        let server = try await StandInAPIServer.start()
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, source: "stand-in"))
        let store = KubernetesKeyStore(client: client, namespace: "kube-system")
        let registry = KeyRegistry(store: store, generation: KeyGenerationOptions(bits: 2048), logger: quietLogger)
        try await registry.start(cutoff: nil)
        let created = try #require(await registry.snapshot().newest)
        #expect(created.name.hasPrefix("sealed-secrets-key") && created.name.count == "sealed-secrets-key".count + 5)
        let stored = try #require(await server.cluster.object("secrets", "kube-system", created.name))
        #expect(stored["type"]?.string == "kubernetes.io/tls")
        #expect(ObjectMeta(stored["metadata"]?.object ?? ManifestObject()).labels[ControllerKeySecret.activeLabel] == "active")

        // Another controller (or an admin) adds a key; an unlabelled Secret elsewhere is ignored.
        let upstream = try Fixtures.upstreamKeyPair()
        try await server.cluster.create("secrets", try Self.keySecret(upstream, name: "byo-key", label: "active"))
        try await server.cluster.create("secrets", try Self.keySecret(try KeyPair.generate(bits: 2048), name: "unrelated", label: nil))
        try await registry.reload()
        #expect(Set(await registry.snapshot().keys.map(\.name)) == [created.name, "byo-key"])

        // Relabelled compromised: dropped from the registry; the Secret itself is untouched.
        try await server.cluster.replace("secrets", try Self.keySecret(upstream, name: "byo-key", label: "compromised"))
        try await registry.reload()
        #expect(await registry.snapshot().keys.map(\.name) == [created.name])
        #expect(await server.cluster.object("secrets", "kube-system", "byo-key") != nil)

        // The pre-0.9 legacy key is named exactly the prefix and needs no label.
        try await server.cluster.create("secrets", try Self.keySecret(upstream, name: "sealed-secrets-key", label: nil))
        try await registry.reload()
        #expect(Set(await registry.snapshot().keys.map(\.name)) == [created.name, "sealed-secrets-key"])
        await client.shutdown()
        await server.stop()
    }
}

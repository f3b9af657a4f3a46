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
        let older = try KeyPair.generate(bits: 2048, now: Date().addingTimeInterval(-7200))
        try writeKeySecret(older, name: "older", into: directory)
        let registry = KeyRegistry(store: LocalKeyDirectory(path: directory), generation: KeyGenerationOptions(bits: 2048), logger: quietLogger)
        try await registry.start(cutoff: nil)
        #expect(await registry.snapshot().keys.map(\.name) == ["older"])

        let newer = try KeyPair.generate(bits: 2048, now: Date().addingTimeInterval(-60))
        try writeKeySecret(newer, name: "newer", into: directory)
        var change = try await registry.reload()
        #expect(change.added == [try KeyFingerprint.of(newer.privateKey)])
        #expect(await registry.snapshot().keys.map(\.name) == ["newer", "older"], "newest by certificate NotBefore")

        // Relabelled compromised: it stops sealing at once, and (as upstream, which keeps keys in memory)
        // still decrypts until a restart.
        try writeKeySecret(newer, name: "newer", into: directory, label: "compromised")
        change = try await registry.reload()
        #expect(change.removed == [try KeyFingerprint.of(newer.privateKey)])
        var snapshot = await registry.snapshot()
        #expect(snapshot.newest?.name == "older")
        #expect(snapshot.retired.map(\.name) == ["newer"])
        #expect(snapshot.decryptionKeys.map(\.name) == ["older", "newer"])
        var meta = ObjectMeta()
        meta.name = "s"
        meta.namespace = "n"
        let sealedForNewer = try Sealer(publicKey: try newer.certificate.publicKey())
            .seal(Secret(metadata: meta, type: "Opaque", data: ["k": Array("v".utf8)]))
        #expect(try snapshot.unsealer.unseal(sealedForNewer).data["k"] == Array("v".utf8))

        // Removed: the same. Labelled active again: it seals again.
        try FileManager.default.removeItem(atPath: directory + "/older.yaml")
        try writeKeySecret(newer, name: "newer", into: directory)
        try await registry.reload()
        snapshot = await registry.snapshot()
        #expect(snapshot.keys.map(\.name) == ["newer"])
        #expect(snapshot.retired.map(\.name) == ["older"])

        // A restart forgets retired keys.
        let restarted = KeyRegistry(store: LocalKeyDirectory(path: directory), generation: KeyGenerationOptions(bits: 2048), logger: quietLogger)
        try await restarted.start(cutoff: nil)
        #expect(await restarted.snapshot().decryptionKeys.map(\.name) == ["newer"])
    }

    @Test func aKeyDirectoryIsPolledAtTheConfiguredInterval() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeKeySecret(try KeyPair.generate(bits: 2048, now: Date().addingTimeInterval(-3600)), name: "first", into: directory)
        let controller = try await RunningController.start(keyDirectory: directory) {
            $0.keyReloadInterval = 0.1
            $0.watchKeySecrets = false  // polling only (the inotify watch has its own test)
        }
        let before = try await send("GET", controller.base + "/v1/cert.pem").body
        let upstream = try Fixtures.upstreamKeyPair()
        try writeKeySecret(upstream, name: "upstream", into: directory, created: Date())
        // The upstream fixture's certificate is older than "first": with SecretCreationTimestamp it would win,
        // here the directory change shows as a second registered key.
        #expect(await eventually { await controller.service.registry.snapshot().keys.count == 2 })
        #expect(try await send("GET", controller.base + "/v1/cert.pem").body == before)
        let newest = try KeyPair.generate(bits: 2048)
        try writeKeySecret(newest, name: "newest", into: directory)
        #expect(try await eventually { try await send("GET", controller.base + "/v1/cert.pem").body != before })
        #expect(await controller.service.registry.snapshot().newest?.name == "newest")
        await controller.stop()
    }

    @Test func aNewKeyFileIsPickedUpWithoutPolling() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeKeySecret(try KeyPair.generate(bits: 2048, now: Date().addingTimeInterval(-3600)), name: "first", into: directory)
        // No polling (--key-reload-interval 0): only the inotify watch can see the new file.
        let controller = try await RunningController.start(keyDirectory: directory) { $0.keyReloadInterval = 0 }
        let before = try await send("GET", controller.base + "/v1/cert.pem").body
        let newest = try KeyPair.generate(bits: 2048)
        try writeKeySecret(newest, name: "newest", into: directory)
        #expect(await eventually { await controller.service.registry.snapshot().newest?.name == "newest" })
        #expect(try await send("GET", controller.base + "/v1/cert.pem").body != before)
        // A file relabelled compromised stops sealing the same way.
        try writeKeySecret(newest, name: "newest", into: directory, label: "compromised")
        #expect(await eventually { await controller.service.registry.snapshot().newest?.name == "first" })
        #expect(try await send("GET", controller.base + "/v1/cert.pem").body == before)
        await controller.stop()
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

    @Test func keySecretsAreWatchedAddedRelabelledRemovedAndAfterGone() async throws {
        let server = try await StandInAPIServer.start()
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, source: "stand-in"))
        let metadata = KeySecretMetadata(labels: ["team": "platform", ControllerKeySecret.activeLabel: "ignored"],
                                         annotations: ["example.com/owner": "ops"])
        let store = KubernetesKeyStore(client: client, namespace: "kube-system", metadata: metadata)
        let registry = KeyRegistry(store: store, generation: KeyGenerationOptions(bits: 2048), logger: quietLogger)
        try await registry.start(cutoff: nil)
        let created = try #require(await registry.snapshot().newest)
        // --privatekey-labels / --privatekey-annotations on the new key Secret; the active label stays.
        let stored = ObjectMeta(try #require(await server.cluster.object("secrets", "kube-system", created.name))["metadata"]?.object ?? ManifestObject())
        #expect(stored.labels == ["team": "platform", ControllerKeySecret.activeLabel: "active"])
        #expect(stored.annotations["example.com/owner"] == "ops")

        let follow = Task { try await store.follow(watch: true, pollInterval: 0, logger: quietLogger) { await registry.apply($0) } }
        #expect(await eventually { await server.cluster.openWatches == 1 })

        // Added: a newer key takes over sealing without a restart.
        let newer = try KeyPair.generate(bits: 2048, now: Date().addingTimeInterval(60))
        try await server.cluster.create("secrets", try Self.keySecret(newer, name: "newer", label: "active"))
        #expect(await eventually { await registry.snapshot().newest?.name == "newer" })

        // Relabelled compromised: the watch reports it gone; it stops sealing and still decrypts.
        try await server.cluster.replace("secrets", try Self.keySecret(newer, name: "newer", label: "compromised"))
        #expect(await eventually { await registry.snapshot().newest?.name == created.name })
        #expect(await registry.snapshot().retired.map(\.name) == ["newer"])

        // Removed: the same.
        let upstream = try Fixtures.upstreamKeyPair()
        try await server.cluster.create("secrets", try Self.keySecret(upstream, name: "byo", label: "active"))
        #expect(await eventually { await registry.snapshot().keys.map(\.name).contains("byo") })
        await server.cluster.remove("secrets", "kube-system", "byo")
        #expect(await eventually { Set(await registry.snapshot().retired.map(\.name)) == ["newer", "byo"] })
        #expect(await registry.snapshot().keys.map(\.name) == [created.name])

        // History compacted while the watch was down: 410 Gone, a new list finds the key added meanwhile.
        let lists = await server.cluster.requestCount("GET /api/v1/namespaces/kube-system/secrets")
        await server.cluster.dropWatches(abruptly: false)
        let later = try KeyPair.generate(bits: 2048, now: Date().addingTimeInterval(120))
        try await server.cluster.create("secrets", try Self.keySecret(later, name: "later", label: "active"))
        await server.cluster.compact()
        #expect(await eventually { await registry.snapshot().newest?.name == "later" })
        #expect(await server.cluster.requestCount("GET /api/v1/namespaces/kube-system/secrets") > lists)

        follow.cancel()
        _ = await follow.result
        await client.shutdown()
        await server.stop()
    }

    @Test func withoutAWatchKeySecretsArePolled() async throws {
        let server = try await StandInAPIServer.start()
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, source: "stand-in"))
        let store = KubernetesKeyStore(client: client, namespace: "kube-system")
        let registry = KeyRegistry(store: store, generation: KeyGenerationOptions(bits: 2048), logger: quietLogger)
        try await server.cluster.create("secrets", try Self.keySecret(try Fixtures.upstreamKeyPair(), name: "byo", label: "active"))
        try await registry.start(cutoff: nil)
        let follow = Task { try await store.follow(watch: false, pollInterval: 0.1, logger: quietLogger) { await registry.apply($0) } }
        let newer = try KeyPair.generate(bits: 2048)
        try await server.cluster.create("secrets", try Self.keySecret(newer, name: "newer", label: "active"))
        #expect(await eventually { await registry.snapshot().newest?.name == "newer" })
        #expect(await server.cluster.openWatches == 0)
        follow.cancel()
        _ = await follow.result
        await client.shutdown()
        await server.stop()
    }
}

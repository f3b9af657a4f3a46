import Foundation
import Sealing
import Testing
@testable import Controller

/// A reconciler running against the stand-in API server, with the upstream fixture key registered.
struct ReconcilerHarness {
    let server: StandInAPIServer
    let client: KubernetesClient
    let reconciler: Reconciler
    let task: Task<Void, Never>
    let directory: String

    var cluster: StandInCluster { server.cluster }

    static func start(_ configure: (inout ReconcilerOptions) -> Void = { _ in }, rateLimiter: TokenBucket? = nil,
                      prepare: (StandInCluster) async throws -> Void = { _ in }) async throws -> ReconcilerHarness {
        let server = try await StandInAPIServer.start()
        try await prepare(server.cluster)
        let directory = try temporaryDirectory()
        try writeKeySecret(try Fixtures.upstreamKeyPair(), name: "upstream", into: directory)
        let registry = KeyRegistry(store: LocalKeyDirectory(path: directory), logger: quietLogger)
        try await registry.reload()
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, source: "stand-in"), requestTimeout: .seconds(10),
                                          rateLimiter: rateLimiter)
        var options = ReconcilerOptions()
        options.retryBaseDelay = 0.05
        options.maxWatchBackoff = 0.3
        options.maxUnsealRetries = 3
        configure(&options)
        let reconciler = Reconciler(client: client, registry: registry, metrics: ControllerMetrics(), options: options, logger: quietLogger)
        let task = Task { await reconciler.run() }
        return ReconcilerHarness(server: server, client: client, reconciler: reconciler, task: task, directory: directory)
    }

    func stop() async {
        task.cancel()
        await task.value
        await client.shutdown()
        await server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Creates one more SealedSecret and waits until its Secret is written and the queue is empty: every event
    /// that arrived before it has had its chance to enqueue (and be reconciled).
    func settle(namespace: String = "prod") async throws -> Bool {
        try await cluster.create("sealedsecrets", try Self.sealed(namespace, "later", items: ["x": "1"]))
        return await eventually {
            let later = await cluster.object("secrets", namespace, "later")
            let pending = await reconciler.queue.count
            return later != nil && pending == 0
        }
    }

    /// A SealedSecret for `namespace/name`, sealed with the fixture certificate.
    static func sealed(_ namespace: String, _ name: String, items: [String: String], template: ObjectMeta? = nil) throws -> ManifestObject {
        var meta = ObjectMeta()
        meta.name = name
        meta.namespace = namespace
        if let template { meta = template; meta.name = name; meta.namespace = namespace }
        let secret = Secret(metadata: meta, type: "Opaque", data: items.mapValues { Array($0.utf8) })
        let sealed = try Sealer(publicKey: try Fixtures.upstreamKeyPair().certificate.publicKey()).seal(secret)
        return try #require(sealed.manifest().object)
    }

    static func data(_ secret: ManifestObject?) -> [String: String] {
        var result: [String: String] = [:]
        for field in secret?["data"]?.object?.fields ?? [] {
            if let text = field.value.string, let bytes = Data(base64Encoded: text) { result[field.key] = String(decoding: bytes, as: UTF8.self) }
        }
        return result
    }

    static func condition(_ object: ManifestObject?) -> ManifestObject? {
        guard case .array(let conditions)? = object?["status"]?.object?["conditions"] else { return nil }
        return conditions.first?.object
    }
}

extension ControllerMetrics {
    /// The exposition text.
    var text: String { String(decoding: render(), as: UTF8.self) }
}

@Suite("Reconciler against a stand-in API server", .serialized)
struct ReconcilerTests {
    @Test func upstreamFixtureBecomesAnOwnedSecretWithStatusAndEvent() async throws {
        let harness = try await ReconcilerHarness.start()
        let fixture = try Fixtures.sealedSecret("sealedsecret-strict.yaml")
        var object = try #require(fixture.manifest().object)
        object["status"] = nil
        let stored = try await harness.cluster.create("sealedsecrets", object)
        let uid = stored["metadata"]?.object?["uid"]?.string

        #expect(await eventually { await ReconcilerHarness.condition(harness.cluster.object("sealedsecrets", "vectors-ns", "vector-secret"))?["status"]?.string == "True" })
        let secret = try #require(await harness.cluster.object("secrets", "vectors-ns", "vector-secret"))
        let expected = try Unsealer(keys: [try Fixtures.upstreamKeyPair().privateKey]).unseal(fixture)
        #expect(ReconcilerHarness.data(secret).keys.sorted() == expected.data.keys.sorted())
        #expect(ReconcilerHarness.data(secret)["password"].map { Array($0.utf8) } == expected.data["password"])
        #expect(secret["type"]?.string == "Opaque")
        guard case .array(let owners)? = secret["metadata"]?.object?["ownerReferences"] else {
            Issue.record("no ownerReferences")
            return
        }
        #expect(owners.count == 1)
        #expect(owners.first?.object?["uid"]?.string == uid)
        #expect(owners.first?.object?["kind"]?.string == "SealedSecret")
        #expect(owners.first?.object?["controller"] == .bool(true))
        let sealedNow = await harness.cluster.object("sealedsecrets", "vectors-ns", "vector-secret")
        #expect(sealedNow?["status"]?.object?["observedGeneration"] == .number("1"))
        #expect(await eventually { await harness.cluster.eventReasons(for: "vector-secret") == ["Unsealed"] }, "events are sent in the background")
        await harness.stop()
    }

    @Test func anUnmanagedSecretIsNeverOverwrittenUntilItIsMarkedManaged() async throws {
        let harness = try await ReconcilerHarness.start()
        let existing = ManifestObject(ordered: [
            ("apiVersion", .string("v1")), ("kind", .string("Secret")),
            ("metadata", .object(ManifestObject(ordered: [("name", .string("db")), ("namespace", .string("prod"))]))),
            ("data", .object(ManifestObject(ordered: [("password", .string(Data("original".utf8).base64EncodedString()))]))),
        ])
        try await harness.cluster.create("secrets", existing)
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("prod", "db", items: ["password": "sealed-value"]))

        #expect(await eventually { await ReconcilerHarness.condition(harness.cluster.object("sealedsecrets", "prod", "db"))?["status"]?.string == "False" })
        let condition = ReconcilerHarness.condition(await harness.cluster.object("sealedsecrets", "prod", "db"))
        #expect(condition?["message"]?.string == "Resource \"db\" already exists and is not managed by SealedSecret")
        #expect(await eventually { await harness.cluster.eventReasons(for: "db").contains("ErrUpdateFailed") })
        // Retries (3) run out; the Secret stays untouched throughout.
        #expect(await eventually {
            let failures = await harness.reconciler.queue.failureCount("prod/db")
            let reads = await harness.cluster.requestCount("GET /api/v1/namespaces/prod/secrets/db")
            return failures == 0 && reads == 4
        })
        #expect(ReconcilerHarness.data(await harness.cluster.object("secrets", "prod", "db")) == ["password": "original"])
        #expect(harness.reconciler.metrics.text.contains(#"unseal_errors_total{reason="unmanaged",namespace="prod"} 4"#))
        // The four failures are one Event whose count went up (client-go's correlation), not four Events.
        #expect(await eventually {
            let failures = await harness.cluster.events(for: "db").filter { $0["reason"]?.string == "ErrUpdateFailed" }
            return failures.count == 1 && failures.first?["count"] == .number("4")
        })

        // Marked managed, and the SealedSecret's spec changes: the controller takes the Secret over.
        var secret = try #require(await harness.cluster.object("secrets", "prod", "db"))
        var meta = ObjectMeta(secret["metadata"]?.object ?? ManifestObject())
        meta.annotations = [SealedSecretsAnnotation.managed: "true"]
        secret["metadata"] = .object(meta.fields)
        try await harness.cluster.replace("secrets", secret)
        try await harness.cluster.replace("sealedsecrets", try ReconcilerHarness.sealed("prod", "db", items: ["password": "sealed-value", "user": "app"]))
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "prod", "db")) == ["password": "sealed-value", "user": "app"] })
        let taken = await harness.cluster.object("secrets", "prod", "db")
        #expect(Reconciler.isControlled(ObjectMeta(taken?["metadata"]?.object ?? ManifestObject()),
                                        by: await harness.cluster.object("sealedsecrets", "prod", "db")?["metadata"]?.object?["uid"]?.string ?? ""))
        #expect(await eventually { await ReconcilerHarness.condition(harness.cluster.object("sealedsecrets", "prod", "db"))?["status"]?.string == "True" })
        #expect(await harness.cluster.object("sealedsecrets", "prod", "db")?["status"]?.object?["observedGeneration"] == .number("2"))
        await harness.stop()
    }

    @Test func patchMergesWithoutTakingOwnership() async throws {
        let harness = try await ReconcilerHarness.start()
        let existing = ManifestObject(ordered: [
            ("apiVersion", .string("v1")), ("kind", .string("Secret")),
            ("metadata", .object(ManifestObject(ordered: [
                ("name", .string("cfg")), ("namespace", .string("prod")),
                ("labels", .object(ManifestObject(ordered: [("team", .string("a"))]))),
                ("annotations", .object(ManifestObject(ordered: [(SealedSecretsAnnotation.patch, .string("true"))]))),
            ]))),
            ("data", .object(ManifestObject(ordered: [("keep", .string(Data("kept".utf8).base64EncodedString())),
                                                     ("token", .string(Data("old".utf8).base64EncodedString()))]))),
        ])
        try await harness.cluster.create("secrets", existing)
        var template = ObjectMeta()
        template.labels = ["app": "web"]
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("prod", "cfg", items: ["token": "new"], template: template))
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "prod", "cfg")) == ["keep": "kept", "token": "new"] })
        let merged = ObjectMeta(await harness.cluster.object("secrets", "prod", "cfg")?["metadata"]?.object ?? ManifestObject())
        #expect(merged.labels == ["team": "a", "app": "web"])
        #expect(merged.fields["ownerReferences"] == nil, "patch alone does not take ownership")
        await harness.stop()
    }

    @Test func skipSetOwnerReferencesAndDeletedSecretsAreRecreated() async throws {
        let harness = try await ReconcilerHarness.start()
        var template = ObjectMeta()
        template.annotations = [SealedSecretsAnnotation.skipSetOwnerReferences: "true", SealedSecretsAnnotation.managed: "true"]
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("prod", "free", items: ["a": "1"], template: template))
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("prod", "owned", items: ["b": "2"]))
        #expect(await eventually {
            let free = await harness.cluster.object("secrets", "prod", "free")
            let owned = await harness.cluster.object("secrets", "prod", "owned")
            return free != nil && owned != nil
        })
        #expect(await harness.cluster.object("secrets", "prod", "free")?["metadata"]?.object?["ownerReferences"] == nil)

        await harness.cluster.remove("secrets", "prod", "owned")
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "prod", "owned")) == ["b": "2"] })
        await harness.stop()
    }

    /// `--watch-for-secrets`: an edited owned Secret is put back; without it the edit stays (the later
    /// SealedSecret is reconciled after the edit reached the informer, so the queue had its chance).
    @Test(arguments: [true, false])
    func watchForSecretsPutsBackAnEditedOwnedSecret(_ watch: Bool) async throws {
        let harness = try await ReconcilerHarness.start { $0.watchForSecrets = watch }
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("prod", "app", items: ["password": "sealed"]))
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "prod", "app")) == ["password": "sealed"] })
        var edited = try #require(await harness.cluster.object("secrets", "prod", "app"))
        edited["data"] = .object(ManifestObject(ordered: [("password", .string(Data("edited".utf8).base64EncodedString()))]))
        try await harness.cluster.replace("secrets", edited)
        #expect(try await harness.settle())
        let expected = watch ? "sealed" : "edited"
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "prod", "app")) == ["password": expected] })
        // The re-sync after our own write changes nothing, so it does not write again.
        #expect(await harness.cluster.requestCount("PUT /api/v1/namespaces/prod/secrets/app") == (watch ? 1 : 0))
        await harness.stop()
    }

    /// `--watch-for-secrets` after a re-list (the watch was down, e.g. 410 Gone): an owned Secret whose
    /// resourceVersion changed meanwhile is reconciled again; an unchanged one, or without the flag, is not.
    @Test(arguments: [true, false])
    func watchForSecretsNoticesEditsSeenOnlyInARelist(_ watch: Bool) async throws {
        let harness = try await ReconcilerHarness.start { $0.watchForSecrets = watch }
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("prod", "app", items: ["password": "sealed"]))
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "prod", "app")) == ["password": "sealed"] })
        #expect(await eventually { await harness.reconciler.queue.count == 0 })
        func unseals() -> Int? {
            harness.reconciler.metrics.text.split(separator: "\n")
                .first { $0.hasPrefix("sealed_secrets_controller_unseal_requests_total ") }
                .flatMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        }
        let before = try #require(unseals())
        let current = try #require(await harness.cluster.object("secrets", "prod", "app"))
        // The same version in a re-list: nothing to do.
        await harness.reconciler.secretEvent(.replaced([current]))
        var edited = current
        var metadata = edited["metadata"]?.object ?? ManifestObject()
        metadata["resourceVersion"] = .string("999999")
        edited["metadata"] = .object(metadata)
        await harness.reconciler.secretEvent(.replaced([edited]))
        if watch {
            #expect(await eventually { (unseals() ?? 0) > before })
        } else {
            #expect(try await harness.settle())
            #expect(unseals() == before + 1, "only the later SealedSecret was unsealed")
        }
        await harness.stop()
    }

    /// `--skip-recreate` with `--watch-for-secrets`: edits are put back, deletions are not.
    @Test func skipRecreateWithWatchForSecretsRecreatesNothing() async throws {
        let harness = try await ReconcilerHarness.start { $0.watchForSecrets = true; $0.skipRecreate = true }
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("prod", "gone", items: ["a": "1"]))
        #expect(await eventually { await harness.cluster.object("secrets", "prod", "gone") != nil })
        await harness.cluster.remove("secrets", "prod", "gone")
        #expect(try await harness.settle())
        #expect(await harness.cluster.object("secrets", "prod", "gone") == nil)
        await harness.stop()
    }

    @Test func aSealedSecretThatFailsToUnsealWritesNoSecret() async throws {
        let harness = try await ReconcilerHarness.start()
        var object = try ReconcilerHarness.sealed("prod", "broken", items: ["x": "1"])
        var meta = ObjectMeta(object["metadata"]?.object ?? ManifestObject())
        meta.name = "renamed"  // a strict value no longer opens under another name
        object["metadata"] = .object(meta.fields)
        try await harness.cluster.create("sealedsecrets", object)
        #expect(await eventually { await ReconcilerHarness.condition(harness.cluster.object("sealedsecrets", "prod", "renamed"))?["status"]?.string == "False" })
        let message = ReconcilerHarness.condition(await harness.cluster.object("sealedsecrets", "prod", "renamed"))?["message"]?.string ?? ""
        #expect(message.hasPrefix("Failed to unseal:"))
        #expect(message.contains("no key could decrypt"))
        #expect(await eventually { await harness.cluster.eventReasons(for: "renamed").first == "ErrUnsealFailed" })
        #expect(await eventually { harness.reconciler.metrics.text.contains(#"unseal_errors_total{reason="unseal",namespace="prod"} 4"#) })
        try await Task.sleep(for: .milliseconds(500))
        #expect(harness.reconciler.metrics.text.contains("sealed_secrets_controller_unseal_requests_total 4"), "1 try + 3 retries")
        #expect(await harness.cluster.object("secrets", "prod", "renamed") == nil)
        #expect(await harness.cluster.requestCount("POST /api/v1/namespaces/prod/secrets") == 0)
        #expect(await harness.cluster.requestCount("PUT /api/v1/namespaces/prod/secrets") == 0)
        await harness.stop()
    }

    @Test func survivesServerErrorsDroppedWatchesAndGone() async throws {
        // The first lists fail with 503 and 500: the informer backs off and lists again.
        let harness = try await ReconcilerHarness.start(prepare: { cluster in
            await cluster.fail("GET", pathContains: "/apis/bitnami.com/v1alpha1/sealedsecrets", status: 503, count: 2)
            await cluster.fail("GET", pathContains: "/api/v1/secrets", status: 500, count: 1)
            try await cluster.create("sealedsecrets", try ReconcilerHarness.sealed("a", "one", items: ["k": "1"]))
        })
        #expect(await eventually { await harness.cluster.object("secrets", "a", "one") != nil })
        #expect(await harness.cluster.requestCount("GET /apis/bitnami.com/v1alpha1/sealedsecrets") >= 3)

        // An abrupt drop: the watch resumes from the last resourceVersion and sees what happened meanwhile.
        #expect(await eventually { await harness.cluster.openWatches >= 2 })
        await harness.cluster.dropWatches(abruptly: true)
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("a", "two", items: ["k": "2"]))
        #expect(await eventually { await harness.cluster.object("secrets", "a", "two") != nil })

        // History compacted: resuming gets 410 Gone, the informer lists again and finds the new object.
        #expect(await eventually { await harness.cluster.openWatches >= 2 })
        let listsBefore = await harness.cluster.requestCount("GET /apis/bitnami.com/v1alpha1/sealedsecrets")
        await harness.cluster.compact()  // before the drop, so the resumed watch is sure to get 410
        await harness.cluster.dropWatches(abruptly: false)
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("a", "three", items: ["k": "3"]))
        #expect(await eventually { await harness.cluster.object("secrets", "a", "three") != nil })
        #expect(await harness.cluster.requestCount("GET /apis/bitnami.com/v1alpha1/sealedsecrets") > listsBefore + 1)
        await harness.stop()
    }

    @Test func slowResponsesAndUpdateConflictsAreRetried() async throws {
        let harness = try await ReconcilerHarness.start()
        await harness.cluster.setDelay(.milliseconds(150))
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("b", "slow", items: ["k": "1"]))
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "b", "slow")) == ["k": "1"] })
        await harness.cluster.setDelay(.zero)

        await harness.cluster.fail("PUT", pathContains: "/secrets/slow", status: 409, count: 1)
        try await harness.cluster.replace("sealedsecrets", try ReconcilerHarness.sealed("b", "slow", items: ["k": "2"]))
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "b", "slow")) == ["k": "2"] })
        #expect(await harness.cluster.requestCount("PUT /api/v1/namespaces/b/secrets/slow") == 2)
        await harness.stop()
    }

    @Test func metadataOnlyEditsDoNotReconcileAndNamespacesAreFiltered() async throws {
        let harness = try await ReconcilerHarness.start { $0.namespaces = ["in"] }
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("in", "x", items: ["k": "1"]))
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("out", "x", items: ["k": "1"]))
        #expect(await eventually { await ReconcilerHarness.condition(harness.cluster.object("sealedsecrets", "in", "x"))?["status"]?.string == "True" })
        let gets = await harness.cluster.requestCount("GET /api/v1/namespaces/in/secrets/x")
        var object = try #require(await harness.cluster.object("sealedsecrets", "in", "x"))
        var meta = ObjectMeta(object["metadata"]?.object ?? ManifestObject())
        meta.labels = ["touched": "yes"]
        object["metadata"] = .object(meta.fields)
        try await harness.cluster.replace("sealedsecrets", object)
        try await Task.sleep(for: .milliseconds(400))
        #expect(await harness.cluster.requestCount("GET /api/v1/namespaces/in/secrets/x") == gets)
        #expect(await harness.cluster.object("secrets", "out", "x") == nil)
        #expect(await harness.cluster.requestCount("GET /api/v1/namespaces/out") == 0)
        await harness.stop()
    }
}

@Suite("Reconciler flags against a stand-in API server", .serialized)
struct ReconcilerFlagTests {
    static func labelled(_ object: ManifestObject, _ labels: [String: String]) -> ManifestObject {
        var object = object
        var meta = ObjectMeta(object["metadata"]?.object ?? ManifestObject())
        meta.labels = labels
        object["metadata"] = .object(meta.fields)
        return object
    }

    @Test func labelSelectorLimitsWhichSealedSecretsAreUnsealed() async throws {
        let harness = try await ReconcilerHarness.start { $0.labelSelector = "team in (a,c),!skip" }
        try await harness.cluster.create("sealedsecrets", Self.labelled(try ReconcilerHarness.sealed("p", "other", items: ["k": "0"]), ["team": "b"]))
        try await harness.cluster.create("sealedsecrets", Self.labelled(try ReconcilerHarness.sealed("p", "skipped", items: ["k": "0"]), ["team": "a", "skip": ""]))
        try await harness.cluster.create("sealedsecrets", Self.labelled(try ReconcilerHarness.sealed("p", "mine", items: ["k": "1"]), ["team": "a"]))
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "p", "mine")) == ["k": "1"] })
        // Relabelled into the selector: the watch reports it and it is unsealed.
        try await harness.cluster.replace("sealedsecrets", Self.labelled(try #require(await harness.cluster.object("sealedsecrets", "p", "other")), ["team": "c"]))
        #expect(await eventually { await harness.cluster.object("secrets", "p", "other") != nil })
        #expect(await harness.cluster.object("secrets", "p", "skipped") == nil)
        #expect(await harness.cluster.requestCount("GET /api/v1/namespaces/p/secrets/skipped") == 0)
        #expect(await harness.cluster.requests.contains { $0.hasPrefix("GET /apis/bitnami.com/v1alpha1/sealedsecrets") })
        await harness.stop()
    }

    @Test func oldGCBehaviorDeletesTheSecretOfADeletedSealedSecret() async throws {
        let harness = try await ReconcilerHarness.start { $0.oldGCBehavior = true }
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("p", "gone", items: ["k": "1"]))
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("p", "kept", items: ["k": "1"]))
        #expect(await eventually {
            let gone = await harness.cluster.object("secrets", "p", "gone")
            let kept = await harness.cluster.object("secrets", "p", "kept")
            return gone != nil && kept != nil
        })
        // A Secret the SealedSecret does not control is left alone even when names match.
        var foreign = try #require(await harness.cluster.object("secrets", "p", "kept"))
        var meta = ObjectMeta(foreign["metadata"]?.object ?? ManifestObject())
        meta.fields["ownerReferences"] = nil
        meta.annotations = [SealedSecretsAnnotation.managed: "true"]
        foreign["metadata"] = .object(meta.fields)
        try await harness.cluster.replace("secrets", foreign)
        await harness.cluster.remove("sealedsecrets", "p", "gone")
        await harness.cluster.remove("sealedsecrets", "p", "kept")
        #expect(await eventually { await harness.cluster.object("secrets", "p", "gone") == nil })
        // The reconcile of the deleted SealedSecret checks it is gone, reads the Secret, finds another owner, stops.
        #expect(await eventually {
            let checked = await harness.cluster.requestCount("GET /apis/bitnami.com/v1alpha1/namespaces/p/sealedsecrets/kept") >= 1
            let idle = await harness.reconciler.queue.count == 0
            return checked && idle
        })
        #expect(await harness.cluster.object("secrets", "p", "kept") != nil)
        #expect(await harness.cluster.requestCount("DELETE /api/v1/namespaces/p/secrets/kept") == 0)
        await harness.stop()
    }

    @Test func oldGCBehaviorKeepsTheSecretOfASealedSecretRelabelledOutOfTheSelector() async throws {
        let harness = try await ReconcilerHarness.start { $0.oldGCBehavior = true; $0.labelSelector = "team=a" }
        try await harness.cluster.create("sealedsecrets", ReconcilerFlagTests.labelled(try ReconcilerHarness.sealed("p", "moved", items: ["k": "1"]), ["team": "a"]))
        #expect(await eventually { await harness.cluster.object("secrets", "p", "moved") != nil })
        try await harness.cluster.replace("sealedsecrets", ReconcilerFlagTests.labelled(try #require(await harness.cluster.object("sealedsecrets", "p", "moved")), ["team": "b"]))
        // The watch reports it deleted; the reconcile that follows reads the SealedSecret, finds it, and stops.
        #expect(await eventually {
            let gone = await harness.reconciler.cache.sealedSecret("p/moved") == nil
            let read = await harness.cluster.requestCount("GET /apis/bitnami.com/v1alpha1/namespaces/p/sealedsecrets/moved") >= 1
            let idle = await harness.reconciler.queue.count == 0
            return gone && read && idle
        })
        #expect(await harness.cluster.object("secrets", "p", "moved") != nil)
        #expect(await harness.cluster.requestCount("DELETE ") == 0)
        await harness.stop()
    }

    @Test func withoutOldGCBehaviorTheSecretIsLeftToGarbageCollection() async throws {
        let harness = try await ReconcilerHarness.start()
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("p", "gone", items: ["k": "1"]))
        #expect(await eventually { await harness.cluster.object("secrets", "p", "gone") != nil })
        await harness.cluster.remove("sealedsecrets", "p", "gone")
        // A later SealedSecret is reconciled after the deletion was seen.
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("p", "later", items: ["k": "2"]))
        #expect(await eventually { await harness.cluster.object("secrets", "p", "later") != nil })
        #expect(await harness.cluster.object("secrets", "p", "gone") != nil, "the stand-in has no garbage collector")
        #expect(await harness.cluster.requestCount("DELETE ") == 0)
        await harness.stop()
    }

    @Test func updateStatusOffWritesNoStatus() async throws {
        let harness = try await ReconcilerHarness.start { $0.updateStatus = false }
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("p", "quiet", items: ["k": "1"]))
        #expect(await eventually { await harness.cluster.eventReasons(for: "quiet") == ["Unsealed"] })
        #expect(await harness.cluster.object("secrets", "p", "quiet") != nil)
        #expect(await harness.cluster.requestCount("PUT /apis/bitnami.com/v1alpha1/namespaces/p/sealedsecrets/quiet/status") == 0)
        #expect(await harness.cluster.object("sealedsecrets", "p", "quiet")?["status"] == nil)
        #expect(harness.reconciler.metrics.text.contains(#"condition_info{namespace="p",name="quiet",condition="Synced""#))
        await harness.stop()
    }

    @Test func theKeyThatOpenedTheLastSealedSecretIsTriedFirst() async throws {
        let harness = try await ReconcilerHarness.start()
        // A newer key seals; the SealedSecrets below were sealed for the older upstream key.
        let newer = try KeyPair.generate(bits: 2048, now: Date())
        try writeKeySecret(newer, name: "newer", into: harness.directory)
        try await harness.reconciler.registry.reload()
        let snapshot = await harness.reconciler.registry.snapshot()
        let upstream = try KeyFingerprint.of(try Fixtures.upstreamKeyPair().privateKey)
        #expect(snapshot.newest?.name == "newer")
        #expect(snapshot.decryptionKeys(preferring: nil).map(\.name) == ["newer", "upstream"])
        #expect(snapshot.decryptionKeys(preferring: upstream).map(\.name) == ["upstream", "newer"])
        #expect(snapshot.decryptionKeys(preferring: "SHA256:unknown").map(\.name) == ["newer", "upstream"])

        #expect(harness.reconciler.lastOpeningKey.withLock { $0 } == nil)
        try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("p", "old", items: ["k": "1"]))
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "p", "old")) == ["k": "1"] })
        #expect(harness.reconciler.lastOpeningKey.withLock { $0 } == upstream)

        // One sealed for the newer key: still opens (the preferred key is only tried first), and becomes preferred.
        var meta = ObjectMeta()
        meta.name = "new"
        meta.namespace = "p"
        let sealedForNewer = try Sealer(publicKey: try newer.certificate.publicKey())
            .seal(Secret(metadata: meta, type: "Opaque", data: ["k": Array("2".utf8)]))
        try await harness.cluster.create("sealedsecrets", try #require(sealedForNewer.manifest().object))
        #expect(await eventually { ReconcilerHarness.data(await harness.cluster.object("secrets", "p", "new")) == ["k": "2"] })
        #expect(harness.reconciler.lastOpeningKey.withLock { $0 } == (try KeyFingerprint.of(newer.privateKey)))
        await harness.stop()
    }

    static func legacySealedSecret(_ namespace: String, _ name: String) throws -> ManifestObject {
        let inner = #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"\#(name)","namespace":"\#(namespace)"},"data":{"k":"dmFsdWU="}}"#
        let blob = try HybridCipher.seal(Array(inner.utf8), publicKey: try Fixtures.upstreamKeyPair().certificate.publicKey(),
                                         label: Array("\(namespace)/\(name)".utf8))
        return ManifestObject(ordered: [
            ("apiVersion", .string(SealedSecret.apiVersion)), ("kind", .string(SealedSecret.kind)),
            ("metadata", .object(ManifestObject(ordered: [("name", .string(name)), ("namespace", .string(namespace))]))),
            ("spec", .object(ManifestObject(ordered: [("data", .string(Data(blob).base64EncodedString()))]))),
        ])
    }

    @Test(arguments: [true, false])
    func deprecatedSpecDataFollowsAcceptDeprecatedV1Data(_ accept: Bool) async throws {
        let harness = try await ReconcilerHarness.start { $0.acceptDeprecatedV1Data = accept }
        try await harness.cluster.create("sealedsecrets", try Self.legacySealedSecret("p", "old"))
        #expect(await eventually { await ReconcilerHarness.condition(harness.cluster.object("sealedsecrets", "p", "old")) != nil })
        let condition = ReconcilerHarness.condition(await harness.cluster.object("sealedsecrets", "p", "old"))
        if accept {
            #expect(condition?["status"]?.string == "True")
            #expect(ReconcilerHarness.data(await harness.cluster.object("secrets", "p", "old")) == ["k": "value"])
        } else {
            #expect(condition?["status"]?.string == "False")
            #expect(condition?["message"]?.string?.contains("--accept-deprecated-v1-data=false") == true)
            #expect(await harness.cluster.object("secrets", "p", "old") == nil)
        }
        await harness.stop()
    }

    @Test func additionalNamespacesWatchTheControllerNamespaceAndThoseOnly() async throws {
        let namespaces = ReconcilerOptions.watchedNamespaces(namespaces: nil, allNamespaces: true, additional: "team-a, team-b,team-a",
                                                             controllerNamespace: "kube-system")
        #expect(namespaces == ["kube-system", "team-a", "team-b"])
        #expect(ReconcilerOptions.watchedNamespaces(namespaces: nil, allNamespaces: false, additional: nil, controllerNamespace: "ctl") == ["ctl"])
        #expect(ReconcilerOptions.watchedNamespaces(namespaces: nil, allNamespaces: true, additional: nil, controllerNamespace: "ctl") == nil)
        #expect(ReconcilerOptions.watchedNamespaces(namespaces: "x,y", allNamespaces: true, additional: nil, controllerNamespace: "ctl") == ["x", "y"])

        let harness = try await ReconcilerHarness.start { $0.namespaces = namespaces }
        for namespace in ["kube-system", "team-a", "team-b", "team-c"] {
            try await harness.cluster.create("sealedsecrets", try ReconcilerHarness.sealed(namespace, "s", items: ["k": namespace]))
        }
        #expect(await eventually {
            var found = 0
            for namespace in ["kube-system", "team-a", "team-b"] where await harness.cluster.object("secrets", namespace, "s") != nil { found += 1 }
            return found == 3
        })
        #expect(await harness.cluster.object("secrets", "team-c", "s") == nil)
        #expect(await harness.cluster.requestCount("GET /apis/bitnami.com/v1alpha1/namespaces/team-c") == 0)
        #expect(await harness.cluster.requestCount("GET /apis/bitnami.com/v1alpha1/sealedsecrets") == 0, "no cluster-wide list")
        await harness.stop()
    }
}

@Suite("Flag values")
struct FlagValueTests {
    @Test func labelSelectors() throws {
        let selector = try LabelSelector(parsing: "app=web,tier!=db, env in (prod, staging),!legacy,owner,zone notin (x)")
        #expect(selector.matches(["app": "web", "env": "prod", "owner": "me"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "owner": "me", "legacy": "1"]))
        #expect(!selector.matches(["app": "web", "env": "dev", "owner": "me"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "owner": "me", "tier": "db"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "owner": "me", "zone": "x"]))
        #expect(!selector.matches(["app": "web", "env": "prod"]))
        #expect(try LabelSelector(parsing: "sealedsecrets.bitnami.com/sealed-secrets-key==active").matches([ControllerKeySecret.activeLabel: "active"]))
        for bad in ["a b", "a=b=c", "a in (x", "=x", "a,,b", "-a=b", "UPPER/x=y"] {
            #expect(throws: ControllerError.self, "\(bad)") { try LabelSelector(parsing: bad) }
        }
    }

    @Test func kubernetesTimestamps() {
        #expect(GoDuration.rfc3339(Date(timeIntervalSince1970: 1_136_214_245.75)) == "2006-01-02T15:04:05Z")
        #expect(GoDuration.rfc3339(Date(timeIntervalSince1970: 1_767_225_599)) == "2025-12-31T23:59:59Z")
        let now = Date()
        #expect(GoDuration.parseRFC3339(GoDuration.rfc3339(now)).map { abs($0.timeIntervalSince(now)) < 1 } == true)
    }

    @Test func keyPrefixAndKeySecretMetadata() throws {
        try ControllerKeySecret.validatePrefix("sealed-secrets-key")
        for bad in ["", "Upper", "with_underscore", String(repeating: "a", count: 246)] {
            #expect(throws: ControllerError.self) { try ControllerKeySecret.validatePrefix(bad) }
        }
        #expect(try KeySecretMetadata.pairs("a=1, example.com/b=two,c=", flag: "privatekey-labels") == ["a": "1", "example.com/b": "two", "c": ""])
        #expect(try KeySecretMetadata.pairs("", flag: "privatekey-labels") == [:])
        #expect(throws: ControllerError.self) { try KeySecretMetadata.pairs("novalue", flag: "privatekey-labels") }
        #expect(throws: ControllerError.self) { try KeySecretMetadata.pairs("bad key=1", flag: "privatekey-labels") }
    }
}

@Suite("Work queue")
struct WorkQueueTests {
    @Test func coalescesAndRequeuesKeysAddedWhileProcessing() async {
        let queue = WorkQueue(maxRetries: 2, baseDelay: 0.01)
        await queue.add("a")
        await queue.add("a")
        await queue.add("b")
        #expect(await queue.count == 2)
        #expect(await queue.next() == "a")
        await queue.add("a")  // while processing: runs once more afterwards
        #expect(await queue.next() == "b")
        await queue.done("a")
        #expect(await queue.next() == "a")
        await queue.done("a")
        await queue.done("b")
        #expect(await queue.count == 0)
    }

    @Test func retriesWithBackoffUpToTheLimit() async {
        let queue = WorkQueue(maxRetries: 2, baseDelay: 0.01)
        await queue.add("k")
        #expect(await queue.next() == "k")
        #expect(await queue.retryLater("k") == 0.01)
        await queue.done("k")
        #expect(await queue.next() == "k")
        #expect(await queue.retryLater("k") == 0.02)
        await queue.done("k")
        #expect(await queue.next() == "k")
        #expect(await queue.retryLater("k") == nil, "gave up after 2 retries")
        await queue.done("k")
        #expect(await queue.failureCount("k") == 0)
        await queue.shutDown()
        #expect(await queue.next() == nil)
    }
}

import Dispatch
import Foundation
import Logging
import Sealing
import Synchronization

/// Settings of the reconcile loop.
public struct ReconcilerOptions: Sendable {
    /// Namespaces to watch (`--namespaces a,b`, or the controller namespace plus `--additional-namespaces`);
    /// nil watches all.
    public var namespaces: [String]?
    /// Only SealedSecrets (and Secrets) matching this selector (`--label-selector`).
    public var labelSelector: String?
    /// Delete the Secret of a deleted SealedSecret ourselves instead of leaving it to Kubernetes garbage
    /// collection through the ownerReference (`--old-gc-behavior`).
    public var oldGCBehavior = false
    /// Unseal SealedSecrets in the deprecated whole-object `spec.data` form (`--accept-deprecated-v1-data`).
    public var acceptDeprecatedV1Data = true
    /// Retries of a failing SealedSecret before it is left alone until it changes (`--max-unseal-retries`).
    public var maxUnsealRetries = 5
    /// Write `status` (`--update-status`).
    public var updateStatus = true
    /// Don't recreate deleted Secrets (`--skip-recreate`; without `watchForSecrets` no Secret watch is opened).
    public var skipRecreate = false
    /// A change to an owned Secret enqueues its SealedSecret, so an edited Secret is put back (`--watch-for-secrets`).
    public var watchForSecrets = false
    /// Concurrent reconciles (`--workers`).
    public var workers = 2
    /// Server-side watch timeout.
    public var watchTimeoutSeconds = 300
    /// First retry delay in seconds (doubles per failure).
    public var retryBaseDelay = 0.5
    /// Longest list/watch backoff in seconds.
    public var maxWatchBackoff: Double = 30

    public init() {}

    /// SealedSecret namespaces to watch (nil = all): `--namespaces`, or the controller namespace plus
    /// `--additional-namespaces` when those are given or `--all-namespaces=false` (upstream's rule).
    public static func watchedNamespaces(namespaces: String?, allNamespaces: Bool, additional: String?,
                                         controllerNamespace: String) -> [String]? {
        func list(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let namespaces { return list(namespaces) }
        let extra = additional.map(list) ?? []
        guard !allNamespaces || !extra.isEmpty else { return nil }
        var result = [controllerNamespace]
        for namespace in extra where !result.contains(namespace) { result.append(namespace) }
        return result
    }
}

/// Annotations and labels the reconciler reads.
public enum SealedSecretsAnnotation {
    /// On the existing Secret: the controller may take it over.
    public static let managed = "sealedsecrets.bitnami.com/managed"
    /// On the existing Secret: merge into it instead of replacing.
    public static let patch = "sealedsecrets.bitnami.com/patch"
    /// On the template: put no ownerReference on the Secret.
    public static let skipSetOwnerReferences = "sealedsecrets.bitnami.com/skip-set-owner-references"
}

/// The last-seen SealedSecrets (what the watch delivered), and which Secret belongs to which SealedSecret.
actor ObjectCache {
    private var sealed: [String: ManifestObject] = [:]
    private var secretOwners: [String: String] = [:]
    /// The resourceVersion of every Secret last seen, so a re-list can tell which changed while no watch was open.
    private var secretVersions: [String: String] = [:]
    /// Every Secret the informers have seen (by `namespace/name`), and the scopes they have listed.
    private var secretNames: Set<String> = []
    private var listedSecretScopes: Set<String> = []
    private var deletedUIDs: [String: String] = [:]
    /// Remember the uids of deleted SealedSecrets (only `--old-gc-behavior` needs them).
    private let tracksDeletions: Bool

    init(tracksDeletions: Bool = false) { self.tracksDeletions = tracksDeletions }

    func sealedSecret(_ key: String) -> ManifestObject? { sealed[key] }

    /// Replaces the set within `scope` (a namespace, nil = all) after a list; returns the keys that are new,
    /// whose spec changed, or that vanished (deleted while no watch was open).
    func replaceSealed(_ items: [ManifestObject], scope: String?) -> [String] {
        var fresh: [String: ManifestObject] = [:]
        var changed: [String] = []
        for item in items {
            let key = ObjectCache.key(item)
            fresh[key] = item
            if sealed[key].map({ $0["spec"] != item["spec"] }) ?? true { changed.append(key) }
            deletedUIDs[key] = nil
        }
        for (key, item) in sealed where ObjectCache.key(key, isIn: scope) && fresh[key] == nil {
            if tracksDeletions, let uid = item["metadata"]?.object?["uid"]?.string, !uid.isEmpty { deletedUIDs[key] = uid }
            sealed[key] = nil
            changed.append(key)
        }
        sealed.merge(fresh) { $1 }
        return changed
    }

    /// Stores an added or modified SealedSecret; returns whether its spec is new or changed.
    func upsertSealed(_ item: ManifestObject) -> Bool {
        let key = ObjectCache.key(item)
        let changed = sealed[key].map { $0["spec"] != item["spec"] } ?? true
        sealed[key] = item
        deletedUIDs[key] = nil
        return changed
    }

    /// Forgets a deleted SealedSecret, remembering its uid for `--old-gc-behavior`.
    func removeSealed(_ item: ManifestObject) {
        let key = ObjectCache.key(item)
        sealed[key] = nil
        if tracksDeletions, let uid = item["metadata"]?.object?["uid"]?.string, !uid.isEmpty { deletedUIDs[key] = uid }
    }

    /// The uid of the deleted SealedSecret `key`, until `forgetDeleted`.
    func deletedUID(_ key: String) -> String? { deletedUIDs[key] }

    func forgetDeleted(_ key: String) { deletedUIDs[key] = nil }

    /// Tracks Secrets that belong to a SealedSecret within `scope`; after a re-list returns the owners whose
    /// Secret vanished.
    /// Replaces the Secrets within `scope` after a list; returns the owners of owned Secrets that vanished and of
    /// those whose resourceVersion changed since last seen (both happened while no watch was open).
    func replaceSecrets(_ items: [ManifestObject], scope: String?) -> (vanished: [String], edited: [String]) {
        var fresh: [String: String] = [:]
        var versions: [String: String] = [:]
        var edited: [String] = []
        for item in items {
            let key = ObjectCache.key(item)
            let version = ObjectCache.resourceVersion(item)
            versions[key] = version
            guard let owner = ObjectCache.owner(ofSecret: item) else { continue }
            fresh[key] = owner
            if let known = secretVersions[key], known != version { edited.append(owner) }
        }
        let vanished = secretOwners.filter { ObjectCache.key($0.key, isIn: scope) && fresh[$0.key] == nil }.map(\.value)
        secretOwners = secretOwners.filter { !ObjectCache.key($0.key, isIn: scope) }.merging(fresh) { $1 }
        secretVersions = secretVersions.filter { !ObjectCache.key($0.key, isIn: scope) }.merging(versions) { $1 }
        secretNames = secretNames.filter { !ObjectCache.key($0, isIn: scope) }.union(items.map(ObjectCache.key))
        listedSecretScopes.insert(scope ?? "")
        return (vanished, edited)
    }

    static func resourceVersion(_ item: ManifestObject) -> String {
        item["metadata"]?.object?["resourceVersion"]?.string ?? ""
    }

    static func key(_ key: String, isIn scope: String?) -> Bool {
        scope.map { key.hasPrefix($0 + "/") } ?? true
    }

    func upsertSecret(_ item: ManifestObject) {
        secretOwners[ObjectCache.key(item)] = ObjectCache.owner(ofSecret: item)
        secretVersions[ObjectCache.key(item)] = ObjectCache.resourceVersion(item)
        secretNames.insert(ObjectCache.key(item))
    }

    func removeSecret(_ item: ManifestObject) -> String? {
        secretNames.remove(ObjectCache.key(item))
        secretVersions.removeValue(forKey: ObjectCache.key(item))
        return secretOwners.removeValue(forKey: ObjectCache.key(item)) ?? ObjectCache.owner(ofSecret: item)
    }

    /// Whether the Secret `key` may exist: false only when a Secret informer covering it has listed and has
    /// not seen it since (an out-of-date answer only costs a 409 and a read).
    func secretMayExist(_ key: String) -> Bool {
        guard !listedSecretScopes.isEmpty else { return true }
        let namespace = String(key.prefix { $0 != "/" })
        guard listedSecretScopes.contains("") || listedSecretScopes.contains(namespace) else { return true }
        return secretNames.contains(key)
    }

    static func key(_ item: ManifestObject) -> String {
        let metadata = ObjectMeta(item["metadata"]?.object ?? ManifestObject())
        return metadata.namespace + "/" + metadata.name
    }

    /// The SealedSecret a Secret belongs to: its controlling SealedSecret owner, or its own name when it is `managed`.
    static func owner(ofSecret item: ManifestObject) -> String? {
        let metadata = ObjectMeta(item["metadata"]?.object ?? ManifestObject())
        if case .array(let owners)? = metadata.fields["ownerReferences"] {
            for owner in owners.compactMap(\.object) where owner["kind"]?.string == SealedSecret.kind && owner["controller"] == .bool(true) {
                if let name = owner["name"]?.string { return metadata.namespace + "/" + name }
            }
        }
        if metadata.annotations[SealedSecretsAnnotation.managed] == "true" { return metadata.namespace + "/" + metadata.name }
        return nil
    }
}

/// Watches SealedSecrets and keeps their Secrets in step: unseal → create or update the owned Secret →
/// status and events, with a coalescing, retrying work queue.
public final class Reconciler: Sendable {
    /// The API client.
    public let client: KubernetesClient
    /// Keys to unseal with.
    public let registry: KeyRegistry
    /// Metrics.
    public let metrics: ControllerMetrics
    /// Settings.
    public let options: ReconcilerOptions
    /// The work queue (visible to tests).
    public let queue: WorkQueue
    let cache: ObjectCache
    /// Sends Events in the background.
    let events: EventRecorder
    private let logger: Logger
    private let informerTask = Mutex<Task<Void, Never>?>(nil)
    /// Fingerprint of the key that opened the last SealedSecret; it is tried first next time.
    let lastOpeningKey = Mutex<String?>(nil)

    public init(client: KubernetesClient, registry: KeyRegistry, metrics: ControllerMetrics, options: ReconcilerOptions, logger: Logger) {
        self.client = client
        self.registry = registry
        self.metrics = metrics
        self.options = options
        self.logger = logger
        self.queue = WorkQueue(maxRetries: options.maxUnsealRetries, baseDelay: options.retryBaseDelay)
        self.cache = ObjectCache(tracksDeletions: options.oldGCBehavior)
        self.events = EventRecorder(client: client, logger: logger)
    }

    /// Runs the informers and workers until cancelled, or until `stop()` (then in-flight reconciles finish first).
    public func run() async {
        let scopes: [String?] = options.namespaces.map { $0.map(Optional.some) } ?? [nil]
        let informers = Task {
            await withTaskGroup(of: Void.self) { group in
                for namespace in scopes {
                    let sealedInformer = Informer(client: client, path: KubePath.sealedSecrets(namespace: namespace), labelSelector: options.labelSelector,
                                                  watchTimeoutSeconds: options.watchTimeoutSeconds, maxBackoff: options.maxWatchBackoff, logger: logger)
                    group.addTask { await sealedInformer.run { await self.sealedSecretEvent($0, scope: namespace) } }
                    if !options.skipRecreate || options.watchForSecrets {
                        let secretInformer = Informer(client: client, path: KubePath.secrets(namespace: namespace), labelSelector: options.labelSelector,
                                                      watchTimeoutSeconds: options.watchTimeoutSeconds, maxBackoff: options.maxWatchBackoff, logger: logger)
                        group.addTask { await secretInformer.run { await self.secretEvent($0, scope: namespace) } }
                    }
                }
            }
        }
        informerTask.withLock { $0 = informers }
        let eventSender = Task { await events.run() }
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<max(1, options.workers) {
                    group.addTask { await self.work() }
                }
                await group.waitForAll()
            }
        } onCancel: {
            informers.cancel()
            eventSender.cancel()
            Task { await self.queue.shutDown() }
        }
        informers.cancel()
        await informers.value
        // The events of the last reconciles go out before `run` returns (unless cancelled).
        events.finish()
        await eventSender.value
    }

    /// Graceful stop: the informers stop, no further key is handed out, and `run` returns once the reconciles
    /// in progress have finished.
    public func stop() async {
        informerTask.withLock { $0?.cancel() }
        await queue.shutDown()
    }

    func sealedSecretEvent(_ event: InformerEvent, scope: String? = nil) async {
        switch event {
        case .replaced(let items):
            for key in await cache.replaceSealed(items, scope: scope) { await queue.add(key) }
        case .added(let item), .modified(let item):
            if await cache.upsertSealed(item) { await queue.add(ObjectCache.key(item)) }
        case .deleted(let item):
            await cache.removeSealed(item)
            await queue.add(ObjectCache.key(item))
        }
    }

    func secretEvent(_ event: InformerEvent, scope: String? = nil) async {
        switch event {
        case .replaced(let items):
            let (vanished, edited) = await cache.replaceSecrets(items, scope: scope)
            if !options.skipRecreate { for owner in vanished { await queue.add(owner) } }
            // Edited while no watch was open (seen only in the re-list): put back like a watched edit.
            if options.watchForSecrets { for owner in edited { await queue.add(owner) } }
        case .added(let item):
            await cache.upsertSecret(item)
        case .modified(let item):
            await cache.upsertSecret(item)
            // Our own updates come back here too: the reconcile that follows finds nothing to change.
            if options.watchForSecrets, let owner = ObjectCache.owner(ofSecret: item) { await queue.add(owner) }
        case .deleted(let item):
            if let owner = await cache.removeSecret(item), !options.skipRecreate {
                logger.info("owned Secret deleted; recreating", metadata: ["secret": "\(ObjectCache.key(item))"])
                await queue.add(owner)
            }
        }
    }

    private func work() async {
        while let key = await queue.next() {
            let outcome = await reconcile(key)
            switch outcome {
            case .done:
                await queue.forget(key)
            case .retry(let reason):
                if let delay = await queue.retryLater(key) {
                    logger.info("will retry", metadata: ["sealedsecret": "\(key)", "reason": "\(reason)", "in_seconds": "\(delay)"])
                } else {
                    logger.error("giving up until the SealedSecret changes", metadata: ["sealedsecret": "\(key)", "reason": "\(reason)"])
                }
            }
            await queue.done(key)
        }
    }

    /// Result of one reconcile.
    public enum Outcome: Sendable, Equatable {
        case done
        case retry(String)
    }

    /// Brings the Secret of SealedSecret `key` (`namespace/name`) in line with it.
    public func reconcile(_ key: String) async -> Outcome {
        guard let object = await cache.sealedSecret(key) else {
            // Deleted: garbage collection removes the Secret through its ownerReference, or we do (--old-gc-behavior).
            guard options.oldGCBehavior, let uid = await cache.deletedUID(key) else { return .done }
            let outcome = await deleteOwnedSecret(key, uid: uid)
            if outcome == .done { await cache.forgetDeleted(key) }
            return outcome
        }
        metrics.recordUnsealRequest()
        var full = object
        full["kind"] = .string(SealedSecret.kind)
        full["apiVersion"] = .string(SealedSecret.apiVersion)
        let meta = ObjectMeta(object["metadata"]?.object ?? ManifestObject())
        let namespace = meta.namespace
        let sealed: SealedSecret
        let desired: Secret
        do {
            sealed = try SealedSecret(manifest: .object(full), source: "SealedSecret \(key)")
            if sealed.legacyData != nil && !options.acceptDeprecatedV1Data {
                throw ControllerError.deprecatedData(object: key)
            }
            let keys = await registry.snapshot().decryptionKeys(preferring: lastOpeningKey.withLock { $0 })
            let unsealer = Unsealer(keys: keys.map(\.keyPair.privateKey))
            let (secret, used) = try await Self.offCooperativePool { try unsealer.unsealReportingKey(sealed) }
            desired = secret
            if let used { lastOpeningKey.withLock { $0 = keys[used].fingerprint } }
        } catch {
            metrics.recordUnsealError(.unseal, namespace: namespace)
            let message = "Failed to unseal: \(error)"
            event(object, type: "Warning", reason: "ErrUnsealFailed", message: message)
            await writeStatus(object, synced: false, message: message)
            return .retry(message)
        }
        let uid = meta.fields["uid"]?.string ?? ""
        let templateAnnotations = sealed.template.metadata?.annotations ?? [:]
        let setOwner = templateAnnotations[SealedSecretsAnnotation.skipSetOwnerReferences] != "true"
        var desiredObject = desired.manifest().object ?? ManifestObject()
        let ownerReference = ManifestValue.array([.object(ManifestObject(ordered: [
            ("apiVersion", .string(SealedSecret.apiVersion)), ("kind", .string(SealedSecret.kind)),
            ("name", .string(meta.name)), ("uid", .string(uid)), ("controller", .bool(true)),
        ]))])
        if setOwner, var metadata = desiredObject["metadata"]?.object {
            metadata["ownerReferences"] = ownerReference
            desiredObject["metadata"] = .object(metadata)
        }
        let secretPath = KubePath.secret(namespace: namespace, name: meta.name)

        // When the Secret informer has listed the namespace and never saw this Secret, create it straight away
        // (a 409 AlreadyExists falls back to reading it); otherwise read it first.
        var existing: ManifestObject?
        // (With --label-selector the Secret informer sees only matching Secrets, so always read first.)
        var mayExist = options.labelSelector != nil ? true : await cache.secretMayExist(key)
        for _ in 0..<2 {
            if mayExist {
                do {
                    existing = try await client.get(secretPath)
                } catch {
                    metrics.recordUnsealError(.fetch, namespace: namespace)
                    return .retry("reading Secret \(key): \(error)")
                }
            }
            do {
                if let existing {
                    let existingMeta = ObjectMeta(existing["metadata"]?.object ?? ManifestObject())
                    let owned = Self.isControlled(existingMeta, by: uid)
                    let managed = existingMeta.annotations[SealedSecretsAnnotation.managed] == "true"
                    let patch = existingMeta.annotations[SealedSecretsAnnotation.patch] == "true"
                    guard owned || managed || patch else {
                        metrics.recordUnsealError(.unmanaged, namespace: namespace)
                        let message = "Resource \"\(meta.name)\" already exists and is not managed by SealedSecret"
                        event(object, type: "Warning", reason: "ErrUpdateFailed", message: message)
                        await writeStatus(object, synced: false, message: message)
                        return .retry(message)
                    }
                    let takeOwnership = setOwner && (owned || managed)
                    let updated = Self.merge(desired: desiredObject, into: existing, patch: patch, setOwner: takeOwnership)
                    if updated != existing {
                        try await client.update(secretPath, updated, decode: false)
                    }
                } else {
                    var created = desiredObject
                    if var metadata = created["metadata"]?.object {
                        for field in ["resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink"] { metadata[field] = nil }
                        created["metadata"] = .object(metadata)
                    }
                    try await client.create(KubePath.secrets(namespace: namespace), created, decode: false)
                }
                break
            } catch let error as ControllerError where error.httpStatus == 409 && existing == nil && !mayExist {
                mayExist = true  // created meanwhile, or the informer has not seen it yet: read it and go on
                continue
            } catch {
                metrics.recordUnsealError(.update, namespace: namespace)
                let message = "\(error)"
                if (error as? ControllerError)?.httpStatus != 409 {
                    event(object, type: "Warning", reason: "ErrUpdateFailed", message: message)
                    await writeStatus(object, synced: false, message: message)
                }
                return .retry(message)
            }
        }
        event(object, type: "Normal", reason: "Unsealed", message: "SealedSecret unsealed successfully")
        await writeStatus(object, synced: true, message: "")
        logger.info("unsealed", metadata: ["sealedsecret": "\(key)"])
        return .done
    }

    /// Runs CPU-bound work (RSA decryption) on a Dispatch thread instead of a Swift concurrency thread, so the
    /// cooperative pool (one thread per core) keeps serving HTTP answers, watch events and the other workers
    /// while keys are tried.
    static func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// `--old-gc-behavior`: deletes the Secret of deleted SealedSecret `key` when that SealedSecret controlled it.
    func deleteOwnedSecret(_ key: String, uid: String) async -> Outcome {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return .done }
        let path = KubePath.secret(namespace: parts[0], name: parts[1])
        do {
            // A SealedSecret relabelled out of --label-selector looks deleted to the watch: make sure it is gone.
            if let still = try await client.get(KubePath.sealedSecret(namespace: parts[0], name: parts[1])),
               still["metadata"]?.object?["uid"]?.string == uid {
                return .done
            }
            guard let existing = try await client.get(path),
                  Self.isControlled(ObjectMeta(existing["metadata"]?.object ?? ManifestObject()), by: uid) else { return .done }
            try await client.delete(path)
            logger.info("deleted the Secret of a deleted SealedSecret (--old-gc-behavior)", metadata: ["secret": "\(key)"])
            return .done
        } catch {
            metrics.recordUnsealError(.update, namespace: parts[0])
            return .retry("deleting Secret \(key): \(error)")
        }
    }

    static func isControlled(_ metadata: ObjectMeta, by uid: String) -> Bool {
        guard case .array(let owners)? = metadata.fields["ownerReferences"] else { return false }
        return owners.compactMap(\.object).contains { $0["uid"]?.string == uid && $0["controller"] == .bool(true) && !uid.isEmpty }
    }

    /// The existing Secret with the desired data, labels, annotations, type and (when taking ownership)
    /// ownerReferences: replaced, or merged into with `patch`. `immutable` is left as it is.
    static func merge(desired: ManifestObject, into existing: ManifestObject, patch: Bool, setOwner: Bool) -> ManifestObject {
        var result = existing
        let desiredMeta = desired["metadata"]?.object ?? ManifestObject()
        var meta = existing["metadata"]?.object ?? ManifestObject()
        for field in ["labels", "annotations"] {
            if patch {
                var merged = meta[field]?.object ?? ManifestObject()
                for entry in desiredMeta[field]?.object?.fields ?? [] { merged[entry.key] = entry.value }
                meta[field] = merged.isEmpty ? nil : .object(merged)
            } else {
                meta[field] = desiredMeta[field]
            }
        }
        if setOwner { meta["ownerReferences"] = desiredMeta["ownerReferences"] }
        result["metadata"] = .object(meta)
        if patch {
            var data = existing["data"]?.object ?? ManifestObject()
            for entry in desired["data"]?.object?.fields ?? [] { data[entry.key] = entry.value }
            result["data"] = data.isEmpty ? nil : .object(data)
        } else {
            result["data"] = desired["data"]
        }
        if let type = desired["type"] { result["type"] = type }
        return normalized(result, like: existing)
    }

    /// Map fields compared without regard to key order, so an unchanged Secret is not rewritten.
    static func normalized(_ object: ManifestObject, like existing: ManifestObject) -> ManifestObject {
        func sortedMap(_ value: ManifestValue?) -> ManifestValue? {
            guard let map = value?.object else { return value }
            return .object(ManifestObject(map.fields.sorted { $0.key < $1.key }))
        }
        func same(_ a: ManifestValue?, _ b: ManifestValue?) -> Bool { sortedMap(a) == sortedMap(b) }
        var result = object
        if same(object["data"], existing["data"]) { result["data"] = existing["data"] }
        if var meta = result["metadata"]?.object, let old = existing["metadata"]?.object {
            for field in ["labels", "annotations"] where same(meta[field], old[field]) { meta[field] = old[field] }
            result["metadata"] = .object(meta)
        }
        return result
    }

    /// Sets the Synced condition and observedGeneration (only when something changed), and the condition metric.
    func writeStatus(_ object: ManifestObject, synced: Bool, message: String) async {
        let meta = ObjectMeta(object["metadata"]?.object ?? ManifestObject())
        metrics.recordCondition(namespace: meta.namespace, name: meta.name, condition: "Synced", status: synced,
                                instance: meta.labels["app.kubernetes.io/instance"] ?? "")
        guard options.updateStatus else { return }
        var current = object
        for attempt in 0..<2 {
            let generation = current["metadata"]?.object?["generation"]
            let oldStatus = current["status"]?.object
            let oldCondition: ManifestObject? = {
                guard case .array(let conditions)? = oldStatus?["conditions"] else { return nil }
                return conditions.compactMap(\.object).first { $0["type"]?.string == "Synced" }
            }()
            let statusText = synced ? "True" : "False"
            if let oldCondition, oldCondition["status"]?.string == statusText,
               (oldCondition["message"]?.string ?? "") == message, oldStatus?["observedGeneration"] == generation {
                return
            }
            let now = GoDuration.rfc3339(Date())
            let transition = oldCondition?["status"]?.string == statusText ? (oldCondition?["lastTransitionTime"] ?? .string(now)) : .string(now)
            let condition = ManifestObject(ordered: [
                ("type", .string("Synced")), ("status", .string(statusText)),
                ("lastUpdateTime", .string(now)), ("lastTransitionTime", transition),
                ("message", message.isEmpty ? nil : .string(message)),
            ])
            current["status"] = .object(ManifestObject(ordered: [
                ("observedGeneration", generation), ("conditions", .array([.object(condition)])),
            ]))
            current["kind"] = .string(SealedSecret.kind)
            current["apiVersion"] = .string(SealedSecret.apiVersion)
            do {
                // The answer is not parsed: the watch brings the written object (with its resourceVersion) to the cache.
                try await client.update(KubePath.sealedSecret(namespace: meta.namespace, name: meta.name) + "/status", current, decode: false)
                return
            } catch let error as ControllerError where error.httpStatus == 409 && attempt == 0 {
                guard let fresh = try? await client.get(KubePath.sealedSecret(namespace: meta.namespace, name: meta.name)) else { break }
                current = fresh
            } catch {
                metrics.recordUnsealError(.status, namespace: meta.namespace)
                logger.warning("status update failed", metadata: ["sealedsecret": "\(meta.displayName)", "error": "\(error)"])
                return
            }
        }
    }

    /// Records an Event on the SealedSecret; it is sent in the background (failures are only logged).
    func event(_ object: ManifestObject, type: String, reason: String, message: String) {
        events.record(object, type: type, reason: reason, message: message)
    }
}

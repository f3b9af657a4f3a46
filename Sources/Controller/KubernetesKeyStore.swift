import Foundation
import Logging
import Sealing

/// Keys as `kubernetes.io/tls` Secrets in the controller's namespace, labelled
/// `sealedsecrets.bitnami.com/sealed-secrets-key=active` (upstream's layout, so keys move between the two).
public struct KubernetesKeyStore: KeyStore {
    /// The API client.
    public let client: KubernetesClient
    /// The controller namespace.
    public let namespace: String
    /// `--key-prefix`: `generateName` of new keys and the name of the pre-0.9 legacy key.
    public let prefix: String
    /// Extra labels and annotations of new key Secrets.
    public let metadata: KeySecretMetadata

    public init(client: KubernetesClient, namespace: String, prefix: String = ControllerKeySecret.defaultPrefix,
                metadata: KeySecretMetadata = KeySecretMetadata()) {
        self.client = client
        self.namespace = namespace
        self.prefix = prefix
        self.metadata = metadata
    }

    static let selector = ControllerKeySecret.activeLabel + "=active"

    public var location: String { "Secrets in namespace \(namespace)" }

    public func activeKeySecrets() async throws -> [StoredKeySecret] {
        let (items, _) = try await client.list(KubePath.secrets(namespace: namespace), labelSelector: Self.selector)
        return try await withLegacy(items).map(stored)
    }

    /// `items` plus the pre-0.9 legacy key Secret (named exactly the prefix, no label needed) when it exists.
    private func withLegacy(_ items: [ManifestObject]) async throws -> [ManifestObject] {
        var objects = items
        if !objects.contains(where: { $0["metadata"]?.object?["name"]?.string == prefix }),
           let legacy = try await client.get(KubePath.secret(namespace: namespace, name: prefix)) {
            objects.append(legacy)
        }
        return objects
    }

    private func stored(_ object: ManifestObject) throws -> StoredKeySecret {
        var full = object
        full["kind"] = .string("Secret")
        full["apiVersion"] = .string("v1")
        let secret = try Secret(manifest: .object(full), source: location)
        let created = secret.metadata.fields["creationTimestamp"]?.string.flatMap(GoDuration.parseRFC3339) ?? Date()
        return StoredKeySecret(name: secret.metadata.name, secret: secret, created: created)
    }

    /// Watches the labelled key Secrets (list + watch from the resourceVersion, 410 → list again, backoff) and
    /// reports the full set after every change; the legacy key is looked up again on every (re-)list.
    public func follow(watch: Bool, pollInterval: Double, logger: Logger,
                       onChange: @Sendable ([StoredKeySecret]) async -> Void) async throws {
        guard watch else { return try await poll(every: pollInterval, logger: logger, onChange: onChange) }
        let informer = Informer(client: client, path: KubePath.secrets(namespace: namespace), labelSelector: Self.selector, logger: logger)
        let state = KeySecretState()
        await informer.run { event in
            var legacy: ManifestObject?
            if case .replaced = event {
                legacy = try? await client.get(KubePath.secret(namespace: namespace, name: prefix))
            }
            let objects = await state.apply(event, legacy: legacy)
            var result: [StoredKeySecret] = []
            for object in objects {
                do {
                    result.append(try stored(object))
                } catch {
                    logger.error("skipping an unreadable key Secret", metadata: ["store": "\(location)", "error": "\(error)"])
                }
            }
            await onChange(result)
        }
        try Task.checkCancellation()
    }

    public func add(_ keyPair: KeyPair, now: Date) async throws -> StoredKeySecret {
        var secret = try keyPair.controllerSecret(name: "", namespace: namespace)
        metadata.apply(to: &secret)
        secret.metadata.fields["generateName"] = .string(prefix)
        guard case .object(let object) = secret.manifest() else {
            throw ControllerError.keyStore(source: location, reason: "cannot build the key Secret")
        }
        let created = try await client.create(KubePath.secrets(namespace: namespace), object)
        let metadata = ObjectMeta(created["metadata"]?.object ?? ManifestObject())
        let timestamp = metadata.fields["creationTimestamp"]?.string.flatMap(GoDuration.parseRFC3339) ?? now
        return StoredKeySecret(name: metadata.name, secret: secret, created: timestamp)
    }
}

/// The key Secrets a watch has seen, by name (plus the legacy one found at the last list).
actor KeySecretState {
    private var objects: [String: ManifestObject] = [:]
    private var legacy: ManifestObject?

    func apply(_ event: InformerEvent, legacy found: ManifestObject?) -> [ManifestObject] {
        switch event {
        case .replaced(let items):
            objects = [:]
            for item in items { objects[Self.name(item)] = item }
            legacy = found
        case .added(let item), .modified(let item):
            objects[Self.name(item)] = item
        case .deleted(let item):
            objects[Self.name(item)] = nil
        }
        var result = objects.sorted { $0.key < $1.key }.map(\.value)
        if let legacy, objects[Self.name(legacy)] == nil { result.append(legacy) }
        return result
    }

    static func name(_ object: ManifestObject) -> String { object["metadata"]?.object?["name"]?.string ?? "" }
}

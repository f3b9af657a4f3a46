import Foundation
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

    public init(client: KubernetesClient, namespace: String, prefix: String = ControllerKeySecret.defaultPrefix) {
        self.client = client
        self.namespace = namespace
        self.prefix = prefix
    }

    public var location: String { "Secrets in namespace \(namespace)" }

    public func activeKeySecrets() async throws -> [StoredKeySecret] {
        let (items, _) = try await client.list(KubePath.secrets(namespace: namespace),
                                               labelSelector: ControllerKeySecret.activeLabel + "=active")
        var objects = items
        if let legacy = try await client.get(KubePath.secret(namespace: namespace, name: prefix)),
           !objects.contains(where: { $0["metadata"]?.object?["name"]?.string == prefix }) {
            objects.append(legacy)
        }
        return try objects.map { object in
            var full = object
            full["kind"] = .string("Secret")
            full["apiVersion"] = .string("v1")
            let secret = try Secret(manifest: .object(full), source: location)
            let created = secret.metadata.fields["creationTimestamp"]?.string.flatMap(GoDuration.parseRFC3339) ?? Date()
            return StoredKeySecret(name: secret.metadata.name, secret: secret, created: created)
        }
    }

    public func add(_ keyPair: KeyPair, now: Date) async throws -> StoredKeySecret {
        var secret = try keyPair.controllerSecret(name: "", namespace: namespace)
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

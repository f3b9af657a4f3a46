import Foundation
import Sealing

/// A key Secret as a store holds it: its name, the Secret (`tls.key`, `tls.crt`, labels) and when it was created.
public struct StoredKeySecret: Sendable {
    /// Secret name (or file name for a key directory).
    public let name: String
    /// The `kubernetes.io/tls` Secret.
    public let secret: Secret
    /// `metadata.creationTimestamp` (or the file's modification time).
    public let created: Date

    public init(name: String, secret: Secret, created: Date) {
        self.name = name
        self.secret = secret
        self.created = created
    }
}

/// Where the controller's private keys live: Kubernetes TLS Secrets, or a local directory.
public protocol KeyStore: Sendable {
    /// For logs and errors.
    var location: String { get }
    /// Every key Secret labelled `sealedsecrets.bitnami.com/sealed-secrets-key=active` (plus the legacy
    /// Secret named exactly the key prefix).
    func activeKeySecrets() async throws -> [StoredKeySecret]
    /// Stores a new key and returns what was stored.
    func add(_ keyPair: KeyPair, now: Date) async throws -> StoredKeySecret
}

/// Keys as Secret manifests (`<name>.yaml`, the same shape as in a cluster) in a local directory, for
/// running outside a cluster. Files whose Secret is not labelled active are ignored, so relabelling a file
/// `compromised` retires its key at the next reload.
public struct LocalKeyDirectory: KeyStore {
    /// The directory.
    public let path: String
    /// `metadata.namespace` written into new key files.
    public let namespace: String
    /// Prefix of new key names.
    public let prefix: String

    public init(path: String, namespace: String = "kube-system", prefix: String = ControllerKeySecret.defaultPrefix) {
        self.path = path
        self.namespace = namespace
        self.prefix = prefix
    }

    public var location: String { path }

    /// The default directory outside a cluster: `$XDG_DATA_HOME/sealant/controller-keys`, else `~/.local/share/...`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/sealant/controller-keys" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/sealant/controller-keys"
    }

    public func activeKeySecrets() async throws -> [StoredKeySecret] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { throw ControllerError.keyStore(source: path, reason: "not a directory") }
        let entries: [String]
        do {
            entries = try manager.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw ControllerError.keyStore(source: path, reason: "cannot list the directory: \(error.localizedDescription)")
        }
        var result: [StoredKeySecret] = []
        for entry in entries where !entry.hasPrefix(".") && InPlaceSealer.manifestExtensions.contains((entry as NSString).pathExtension.lowercased()) {
            let file = (path as NSString).appendingPathComponent(entry)
            guard let data = manager.contents(atPath: file) else { continue }
            let documents = try ManifestReader.documents(in: String(decoding: data, as: UTF8.self), source: file)
            let modified = (try? manager.attributesOfItem(atPath: file)[.modificationDate] as? Date) ?? Date()
            for (index, document) in documents.enumerated() where Secret.isSecret(document) {
                let secret = try Secret(manifest: document, source: file, document: index + 1)
                let isLegacy = secret.metadata.name == prefix
                guard isLegacy || secret.metadata.labels[ControllerKeySecret.activeLabel] == "active" else { continue }
                let created = secret.metadata.fields["creationTimestamp"]?.string.flatMap(GoDuration.parseRFC3339) ?? modified
                let name = secret.metadata.name.isEmpty ? (entry as NSString).deletingPathExtension : secret.metadata.name
                result.append(StoredKeySecret(name: name, secret: secret, created: created))
            }
        }
        return result
    }

    public func add(_ keyPair: KeyPair, now: Date) async throws -> StoredKeySecret {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ControllerError.keyStore(source: path, reason: "cannot create the directory: \(error.localizedDescription)")
        }
        var name = try ControllerKeySecret.generatedName(prefix: prefix)
        while manager.fileExists(atPath: file(for: name)) { name = try ControllerKeySecret.generatedName(prefix: prefix) }
        var secret = try keyPair.controllerSecret(name: name, namespace: namespace)
        secret.metadata.fields["creationTimestamp"] = .string(GoDuration.rfc3339(now))
        let text = try ManifestWriter.yaml(secret.manifest())
        do {
            try AtomicFileWriter.write(text, to: file(for: name), mode: 0o600)
        } catch {
            throw ControllerError.keyStore(source: file(for: name), reason: "cannot write the key: \(error)")
        }
        return StoredKeySecret(name: name, secret: secret, created: now)
    }

    private func file(for name: String) -> String { (path as NSString).appendingPathComponent(name + ".yaml") }
}

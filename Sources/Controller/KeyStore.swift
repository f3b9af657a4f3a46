import Foundation
import Logging
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
    /// Follows the store until cancelled, calling `onChange` with every active key Secret whenever the set may
    /// have changed. `watch` asks for a watch where the store has one (Kubernetes); otherwise, and for stores
    /// without one, the store is read again every `pollInterval` seconds (0 = never).
    func follow(watch: Bool, pollInterval: Double, logger: Logger,
                onChange: @Sendable ([StoredKeySecret]) async -> Void) async throws
}

extension KeyStore {
    public func follow(watch: Bool, pollInterval: Double, logger: Logger,
                       onChange: @Sendable ([StoredKeySecret]) async -> Void) async throws {
        try await poll(every: pollInterval, logger: logger, onChange: onChange)
    }

    /// Reads the store every `interval` seconds (forever idle when 0).
    func poll(every interval: Double, logger: Logger, onChange: @Sendable ([StoredKeySecret]) async -> Void) async throws {
        guard interval > 0 else {
            while true { try await Task.sleep(for: .seconds(86400)) }
        }
        while true {
            try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            do {
                await onChange(try await activeKeySecrets())
            } catch {
                logger.error("reading keys failed", metadata: ["store": "\(location)", "error": "\(error)"])
            }
        }
    }
}

/// Labels and annotations put on new key Secrets (`--privatekey-labels`, `--privatekey-annotations`); the
/// active label is always set and cannot be overridden.
public struct KeySecretMetadata: Sendable, Equatable {
    public var labels: [String: String]
    public var annotations: [String: String]

    public init(labels: [String: String] = [:], annotations: [String: String] = [:]) {
        self.labels = labels
        self.annotations = annotations
    }

    func apply(to secret: inout Secret) {
        for (key, value) in labels where key != ControllerKeySecret.activeLabel { secret.metadata.labels[key] = value }
        for (key, value) in annotations { secret.metadata.annotations[key] = value }
    }

    /// Parses `k=v,k2=v2` as upstream's flags take it; throws `invalidOption` naming `flag`.
    public static func pairs(_ text: String, flag: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for part in text.split(separator: ",") {
            let entry = part.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            guard let equals = entry.firstIndex(of: "="), !entry[..<equals].isEmpty else {
                throw ControllerError.invalidOption(name: flag, value: text, reason: "expected key=value pairs separated by commas")
            }
            let key = String(entry[..<equals])
            guard LabelSelector.isQualifiedName(key) else {
                throw ControllerError.invalidOption(name: flag, value: text, reason: "\"\(key)\" is not a valid label or annotation key")
            }
            result[key] = String(entry[entry.index(after: equals)...])
        }
        return result
    }
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
    /// Extra labels and annotations of new key Secrets.
    public let metadata: KeySecretMetadata

    public init(path: String, namespace: String = "kube-system", prefix: String = ControllerKeySecret.defaultPrefix,
                metadata: KeySecretMetadata = KeySecretMetadata()) {
        self.path = path
        self.namespace = namespace
        self.prefix = prefix
        self.metadata = metadata
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
        metadata.apply(to: &secret)
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

    /// With `watch`, the directory is watched with inotify and read again shortly after every change; the
    /// `pollInterval` reading stays as the fallback (filesystems without inotify events, a directory that does not
    /// exist yet or was replaced: the watch is set up again at each poll, or every second when polling is off).
    public func follow(watch: Bool, pollInterval: Double, logger: Logger,
                       onChange: @Sendable ([StoredKeySecret]) async -> Void) async throws {
        guard watch else { return try await poll(every: pollInterval, logger: logger, onChange: onChange) }
        var watcher: DirectoryWatcher?
        while true {
            try Task.checkCancellation()
            if watcher == nil || watcher?.isGone == true {
                watcher = DirectoryWatcher(path: path)
                if watcher != nil {
                    // Read once the watch is in place: nothing that changed before it is missed.
                    await reload(logger: logger, onChange: onChange)
                } else {
                    logger.debug("key directory not watched (inotify); polling", metadata: ["store": "\(location)"])
                }
            }
            let timeout: Double? = pollInterval > 0 ? pollInterval : (watcher == nil ? 1 : nil)
            if let watcher {
                let changed = await watcher.waitForChange(timeout: timeout)
                try Task.checkCancellation()
                if changed {
                    // Let a burst of events (a copy in several writes, a symlink swap) settle, then read once.
                    try await Task.sleep(for: .milliseconds(200))
                    _ = await watcher.waitForChange(timeout: 0)
                } else if pollInterval <= 0 && !watcher.isGone {
                    continue
                }
            } else {
                try await Task.sleep(for: .milliseconds(Int64((timeout ?? 1) * 1000)))
                if pollInterval <= 0 { continue }
            }
            await reload(logger: logger, onChange: onChange)
        }
    }

    private func reload(logger: Logger, onChange: @Sendable ([StoredKeySecret]) async -> Void) async {
        do {
            await onChange(try await activeKeySecrets())
        } catch {
            logger.error("reading keys failed", metadata: ["store": "\(location)", "error": "\(error)"])
        }
    }
}

extension ControllerKeySecret {
    /// `--key-prefix`: lower-case letters, digits and `-`, at most 245 characters (upstream's rule, so a
    /// generated name stays a valid Secret name).
    public static func validatePrefix(_ prefix: String) throws {
        guard !prefix.isEmpty, prefix.count <= 245,
              prefix.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw ControllerError.invalidOption(name: "key-prefix", value: prefix, reason: "use 1 to 245 characters from a-z, 0-9 and -")
        }
    }
}

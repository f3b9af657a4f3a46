import Dispatch
import Foundation

/// Why a Secret could not be sealed. Messages never include values.
public struct SealError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Choices that change how a Secret is sealed (the `seal` command's flags).
public struct SealOptions: Sendable {
    /// `--scope`; nil or strict leaves the input's annotations in charge.
    public var scope: SealingScope?
    /// `--namespace`: fills an empty namespace; a different non-empty one is an error.
    public var namespace: String?
    /// `--name`: overrides the input Secret's name.
    public var name: String?
    /// Namespace used when neither the input nor `--namespace` gives one (and the scope isn't cluster-wide).
    public var defaultNamespace: String
    /// Allow Secrets without `data` or `stringData`.
    public var allowEmptyData: Bool

    public init(scope: SealingScope? = nil, namespace: String? = nil, name: String? = nil,
                defaultNamespace: String = "default", allowEmptyData: Bool = false) {
        self.scope = scope
        self.namespace = namespace
        self.name = name
        self.defaultNamespace = defaultNamespace
        self.allowEmptyData = allowEmptyData
    }
}

/// Seals Secrets into SealedSecrets with a controller's public key, as kubeseal does.
public struct Sealer: Sendable {
    /// The public key values are sealed for.
    public let publicKey: RSAKey

    public init(publicKey: RSAKey) { self.publicKey = publicKey }
    public init(certificate: SealingCertificate) { self.publicKey = certificate.publicKey }

    /// Seals one Secret.
    public func seal(_ input: Secret, options: SealOptions = SealOptions()) throws -> SealedSecret {
        var secret = input
        if let name = options.name, !name.isEmpty { secret.metadata.name = name }
        guard !secret.metadata.name.isEmpty else { throw SealError("Secret is missing metadata.name") }
        if let scope = options.scope, scope != .strict {
            secret.metadata.annotations = scope.applying(to: secret.metadata.annotations)
        }
        let scope = SealingScope(annotations: secret.metadata.annotations)
        if let namespace = options.namespace, !namespace.isEmpty, !secret.metadata.namespace.isEmpty,
           namespace != secret.metadata.namespace {
            throw SealError("Secret \(secret.metadata.displayName): namespace mismatch: the Secret says \(secret.metadata.namespace), --namespace says \(namespace)")
        }
        if secret.metadata.namespace.isEmpty && scope != .clusterWide {
            secret.metadata.namespace = options.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? options.defaultNamespace
        }
        if secret.data.isEmpty && secret.stringData.isEmpty && !options.allowEmptyData {
            throw SealError("Secret \(secret.metadata.displayName) has no data or stringData to seal (use --allow-empty-data to allow it)")
        }

        let label = scope.label(namespace: secret.metadata.namespace, name: secret.metadata.name)
        // stringData is processed second, so it wins on a key collision.
        var plain = secret.data
        for (key, value) in secret.stringData { plain[key] = Array(value.utf8) }
        let encrypted = try sealItems(plain, label: label)

        var top = ObjectMeta()
        top.name = secret.metadata.name
        top.namespace = secret.metadata.namespace
        if let annotation = scope.annotation { top.annotations = [annotation: "true"] }
        let template = SecretTemplate(metadata: secret.metadata.strippedForSealing(), type: secret.type,
                                      immutable: secret.immutable)
        return SealedSecret(metadata: top, template: template, encryptedData: encrypted)
    }

    /// Seals several items under one label (in parallel: each value costs one RSA public-key operation).
    public func sealItems(_ items: [String: [UInt8]], label: [UInt8]) throws -> [String: String] {
        let keys = Array(items.keys)
        let results = try ParallelMap.map(keys) { key in
            try HybridCipher.sealToBase64(items[key] ?? [], publicKey: publicKey, label: label)
        }
        return Dictionary(uniqueKeysWithValues: zip(keys, results))
    }

    /// `--raw`: seals one value for a scope and returns the base64 blob.
    public func sealRaw(_ value: [UInt8], scope: SealingScope, namespace: String?, name: String?) throws -> String {
        let namespace = namespace ?? ""
        let name = name ?? ""
        switch scope {
        case .strict:
            guard !namespace.isEmpty, !name.isEmpty else { throw SealError("--raw with strict scope needs --namespace and --name") }
        case .namespaceWide:
            guard !namespace.isEmpty else { throw SealError("--raw with namespace-wide scope needs --namespace") }
        case .clusterWide:
            break
        }
        return try HybridCipher.sealToBase64(value, publicKey: publicKey, label: scope.label(namespace: namespace, name: name))
    }

    /// `--merge-into`: seals `secret` with the existing SealedSecret's name and namespace and merges its items,
    /// template annotations, labels and data into `existing`, keeping everything else.
    public func merge(_ secret: Secret, into existing: SealedSecret, options: SealOptions = SealOptions()) throws -> SealedSecret {
        var mergeOptions = options
        mergeOptions.name = existing.metadata.name
        mergeOptions.namespace = existing.metadata.namespace.isEmpty ? options.namespace : existing.metadata.namespace
        var input = secret
        if !existing.metadata.namespace.isEmpty { input.metadata.namespace = existing.metadata.namespace }
        let sealed = try seal(input, options: mergeOptions)
        var merged = existing
        for (key, value) in sealed.encryptedData { merged.encryptedData[key] = value }
        var templateMeta = merged.template.metadata ?? ObjectMeta()
        let newMeta = sealed.template.metadata ?? ObjectMeta()
        var annotations = templateMeta.annotations
        for (key, value) in newMeta.annotations { annotations[key] = value }
        templateMeta.annotations = annotations
        var labels = templateMeta.labels
        for (key, value) in newMeta.labels { labels[key] = value }
        templateMeta.labels = labels
        merged.template.metadata = templateMeta
        for (key, value) in sealed.template.data { merged.template.data[key] = value }
        return merged
    }
}

/// Why a SealedSecret could not be unsealed. Messages never include values.
public struct UnsealError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Opens SealedSecrets with private keys (offline recovery, validation, re-encryption).
public struct Unsealer: Sendable {
    /// Every key is tried for every item.
    public let keys: [RSAKey]

    public init(keys: [RSAKey]) { self.keys = keys }

    /// The decrypted items (from `encryptedData`, or from the legacy `spec.data` Secret), without templating.
    public func openItems(_ sealed: SealedSecret) throws -> [String: [UInt8]] {
        try openItemsReportingKey(sealed).items
    }

    /// `openItems`, and the index in `keys` of the key that opened the first item (nil when there is none), so a
    /// caller can try that key first next time.
    public func openItemsReportingKey(_ sealed: SealedSecret) throws -> (items: [String: [UInt8]], key: Int?) {
        let label = sealed.label
        if let legacy = sealed.legacyData {
            let json: [UInt8]
            let used: Int
            do {
                (json, used) = try HybridCipher.openReportingKey(legacy, keys: keys, label: label)
            } catch {
                throw UnsealError(describe(error, item: "spec.data", sealed: sealed))
            }
            do {
                let documents = try JSONParser.parseAll(String(decoding: json, as: UTF8.self), source: "spec.data")
                guard let first = documents.first else { throw UnsealError("empty") }
                let secret = try Secret(manifest: first, source: "spec.data")
                var items = secret.data
                for (key, value) in secret.stringData { items[key] = Array(value.utf8) }
                return (items, used)
            } catch {
                throw UnsealError("SealedSecret \(sealed.metadata.displayName): spec.data does not hold a v1 Secret")
            }
        }
        let names = Array(sealed.encryptedData.keys)
        let results: [Result<(plaintext: [UInt8], key: Int), Error>] = ParallelMap.results(names) { name in
            try HybridCipher.openReportingKey(base64: sealed.encryptedData[name] ?? "", keys: keys, label: label)
        }
        var items: [String: [UInt8]] = [:]
        var used: Int?
        for (name, result) in zip(names, results).sorted(by: { $0.0 < $1.0 }) {
            switch result {
            case .success(let value):
                items[name] = value.plaintext
                used = used ?? value.key
            case .failure(let error): throw UnsealError(describe(error, item: name, sealed: sealed))
            }
        }
        return (items, used)
    }

    /// The Secret the controller would create: items decrypted, template rendered, name and namespace forced.
    public func unseal(_ sealed: SealedSecret) throws -> Secret {
        try unsealReportingKey(sealed).secret
    }

    /// `unseal`, and the index in `keys` of the key that opened the first item (see `openItemsReportingKey`).
    public func unsealReportingKey(_ sealed: SealedSecret) throws -> (secret: Secret, key: Int?) {
        let (items, used) = try openItemsReportingKey(sealed)
        var data = items
        for (key, source) in sealed.template.data.sorted(by: { $0.key < $1.key }) {
            do {
                data[key] = try GoTemplate(source).render(items)
            } catch {
                throw UnsealError("SealedSecret \(sealed.metadata.displayName): spec.template.data.\(key): \(error)")
            }
        }
        var metadata = sealed.template.metadata ?? ObjectMeta()
        metadata.name = sealed.metadata.name
        metadata.namespace = sealed.metadata.namespace
        metadata.fields["ownerReferences"] = nil
        return (Secret(metadata: metadata, type: sealed.template.type, immutable: sealed.template.immutable, data: data), used)
    }

    /// Unseals several SealedSecrets, spreading them over all cores; the first failure (in input order) is thrown.
    public func unseal(_ list: [SealedSecret]) throws -> [Secret] {
        try ParallelMap.map(list) { try unseal($0) }
    }

    private func describe(_ error: Error, item: String, sealed: SealedSecret) -> String {
        let scope = sealed.scope
        let label = String(decoding: sealed.label, as: UTF8.self)
        var message = "SealedSecret \(sealed.metadata.displayName): item \"\(item)\": \(error)"
        if case OpenError.noKeyCouldDecrypt = error {
            message += " (scope \(scope.rawValue), label \"\(label)\", \(keys.count) key\(keys.count == 1 ? "" : "s") tried:"
                + " wrong key, or the SealedSecret was renamed or moved to another namespace since it was sealed)"
        }
        return message
    }

    /// Re-seals every item for `sealer`'s key, in the same scope, keeping the template. A legacy `spec.data`
    /// blob becomes `encryptedData` items.
    public func reencrypt(_ sealed: SealedSecret, with sealer: Sealer) throws -> SealedSecret {
        let items = try openItems(sealed)
        var result = sealed
        result.encryptedData = try sealer.sealItems(items, label: sealed.label)
        result.legacyData = nil
        return result
    }
}

/// Runs independent work items on all cores (both RSA directions are CPU-bound).
enum ParallelMap {
    static func results<T: Sendable, R>(_ inputs: [T], _ body: @Sendable (T) throws -> R) -> [Result<R, Error>] {
        guard inputs.count > 1 else { return inputs.map { input in Result { try body(input) } } }
        let box = ResultBox<R>(count: inputs.count)
        DispatchQueue.concurrentPerform(iterations: inputs.count) { index in
            box.set(index, Result { try body(inputs[index]) })
        }
        return box.values
    }

    static func map<T: Sendable, R>(_ inputs: [T], _ body: @Sendable (T) throws -> R) throws -> [R] {
        try results(inputs, body).map { try $0.get() }
    }

    /// Each slot is written exactly once by one iteration; the lock makes the writes visible.
    private final class ResultBox<R>: @unchecked Sendable {
        private var slots: [Result<R, Error>?]
        private let lock = NSLock()
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: Result<R, Error>) {
            lock.lock()
            slots[index] = value
            lock.unlock()
        }
        var values: [Result<R, Error>] {
            lock.lock()
            defer { lock.unlock() }
            return slots.map { $0 ?? .failure(UnsealError("internal: missing result")) }
        }
    }
}

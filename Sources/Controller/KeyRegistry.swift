import Foundation
import Logging
import Sealing

/// One registered controller key.
public struct ControllerKey: Sendable {
    /// Secret (or file) name.
    public let name: String
    /// OpenSSH SHA256 fingerprint of the public key (the registry's identity for a key).
    public let fingerprint: String
    /// The private key and its certificate.
    public let keyPair: KeyPair
    /// When its Secret was created.
    public let created: Date

    /// The certificate's NotBefore (creation time when the certificate has none).
    public var notBefore: Date { keyPair.certificate.notBefore ?? created }
}

/// Which time orders keys when picking the newest (`--key-order-priority`).
public enum KeyOrderPriority: String, Sendable, CaseIterable {
    case certNotBefore = "CertNotBefore"
    case secretCreationTimestamp = "SecretCreationTimestamp"
}

/// How new keys are made.
public struct KeyGenerationOptions: Sendable {
    /// RSA modulus size (`--key-size`).
    public var bits: Int
    /// Certificate validity in seconds (`--key-ttl`).
    public var validity: Int
    /// Certificate subject CN (`--my-cn`).
    public var commonName: String

    public init(bits: Int = 4096, validity: Int = 87_600 * 3600, commonName: String = "") {
        self.bits = bits
        self.validity = validity
        self.commonName = commonName
    }
}

/// A consistent view of the registered keys: the newest seals and is served, every key decrypts.
public struct KeySnapshot: Sendable {
    /// Keys, newest first.
    public let keys: [ControllerKey]

    /// The key that seals.
    public var newest: ControllerKey? { keys.first }

    /// Unseals with every key, newest first.
    public var unsealer: Unsealer { Unsealer(keys: keys.map(\.keyPair.privateKey)) }

    /// Seals with the newest key.
    public func sealer() throws -> Sealer {
        guard let newest else { throw ControllerError.noKeys }
        return Sealer(publicKey: try newest.keyPair.certificate.publicKey())
    }
}

/// The controller's key registry: loads keys from a `KeyStore`, reloads them while running, and adds new
/// ones (at start, on the renewal timer, on SIGUSR1). Keys are never deleted.
public actor KeyRegistry {
    /// Where keys are kept.
    public nonisolated let store: any KeyStore
    /// How new keys are made.
    public nonisolated let generation: KeyGenerationOptions
    /// Which time picks the newest key.
    public nonisolated let order: KeyOrderPriority
    private let logger: Logger
    private var keys: [String: ControllerKey] = [:]
    private var current = KeySnapshot(keys: [])

    public init(store: any KeyStore, generation: KeyGenerationOptions = KeyGenerationOptions(),
                order: KeyOrderPriority = .certNotBefore, logger: Logger) {
        self.store = store
        self.generation = generation
        self.order = order
        self.logger = logger
    }

    /// The current keys.
    public func snapshot() -> KeySnapshot { current }

    /// Reads the store again: keys added are registered, keys removed or relabelled are dropped from the
    /// registry (their Secrets are never touched). Returns the fingerprints added and removed.
    @discardableResult
    public func reload() async throws -> (added: [String], removed: [String]) {
        let stored = try await store.activeKeySecrets()
        var fresh: [String: ControllerKey] = [:]
        for item in stored {
            do {
                let pair = try ControllerKeySecret.keyPair(from: item.secret, source: store.location)
                let fingerprint = try KeyFingerprint.of(pair.privateKey)
                fresh[fingerprint] = ControllerKey(name: item.name, fingerprint: fingerprint, keyPair: pair, created: item.created)
            } catch {
                logger.error("skipping an unreadable key Secret", metadata: ["secret": "\(item.name)", "error": "\(error)"])
            }
        }
        let added = fresh.keys.filter { keys[$0] == nil }.sorted()
        let removed = keys.keys.filter { fresh[$0] == nil }.sorted()
        for fingerprint in added {
            logger.info("registered key", metadata: ["fingerprint": "\(fingerprint)", "secret": "\(fresh[fingerprint]?.name ?? "")"])
        }
        for fingerprint in removed {
            logger.info("unregistered key (its Secret was removed or is no longer labelled active)",
                        metadata: ["fingerprint": "\(fingerprint)", "secret": "\(keys[fingerprint]?.name ?? "")"])
        }
        keys = fresh
        publish()
        return (added, removed)
    }

    /// Generates a key, stores it and registers it. Generation runs off the actor so unsealing is not held up.
    @discardableResult
    public func addKey(now: Date = Date(), reason: String) async throws -> ControllerKey {
        let options = generation
        let pair = try await Task.detached(priority: .utility) {
            try KeyPair.generate(bits: options.bits, validity: options.validity, commonName: options.commonName, now: now)
        }.value
        let stored = try await store.add(pair, now: now)
        let fingerprint = try KeyFingerprint.of(pair.privateKey)
        let key = ControllerKey(name: stored.name, fingerprint: fingerprint, keyPair: pair, created: stored.created)
        keys[fingerprint] = key
        publish()
        logger.notice("new key written", metadata: ["fingerprint": "\(fingerprint)", "secret": "\(stored.name)",
                                                    "store": "\(store.location)", "reason": "\(reason)"])
        return key
    }

    /// Loads the keys and adds one when there is none, or when the newest is older than `cutoff`.
    public func start(cutoff: Date?, now: Date = Date()) async throws {
        try await reload()
        if current.newest == nil {
            try await addKey(now: now, reason: "no key yet")
        } else if let cutoff, let newest = current.newest, orderingTime(newest) < cutoff {
            try await addKey(now: now, reason: "newest key is older than --key-cutoff-time")
        }
    }

    /// Seconds until the next renewal for `period` (period − age of the newest key, so restarts keep the clock).
    public func secondsUntilRenewal(period: Double, now: Date = Date()) -> Double {
        guard let newest = current.newest else { return 0 }
        return max(0, period - now.timeIntervalSince(orderingTime(newest)))
    }

    private func orderingTime(_ key: ControllerKey) -> Date {
        switch order {
        case .certNotBefore: return key.notBefore
        case .secretCreationTimestamp: return key.created
        }
    }

    private func publish() {
        let sorted = keys.values.sorted { lhs, rhs in
            let (left, right) = (orderingTime(lhs), orderingTime(rhs))
            return left != right ? left > right : lhs.fingerprint < rhs.fingerprint
        }
        current = KeySnapshot(keys: sorted)
    }
}

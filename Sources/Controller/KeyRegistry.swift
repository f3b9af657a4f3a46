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

/// A consistent view of the registered keys: the newest active key seals and is served; every key decrypts,
/// including keys whose Secret was removed or relabelled while running (kept in memory until a restart, as
/// upstream does, so SealedSecrets sealed for them keep unsealing).
public struct KeySnapshot: Sendable {
    /// Active keys (their Secret is labelled active), newest first.
    public let keys: [ControllerKey]
    /// Keys whose Secret went away or stopped being labelled active while running: they decrypt, never seal.
    public let retired: [ControllerKey]

    public init(keys: [ControllerKey], retired: [ControllerKey] = []) {
        self.keys = keys
        self.retired = retired
    }

    /// The key that seals.
    public var newest: ControllerKey? { keys.first }

    /// Every key that decrypts: active ones newest first, then retired ones.
    public var decryptionKeys: [ControllerKey] { keys + retired }

    /// Unseals with every key, newest first (retired keys last).
    public var unsealer: Unsealer { Unsealer(keys: decryptionKeys.map(\.keyPair.privateKey)) }

    /// The decryption keys with the one whose fingerprint is `fingerprint` first (the key that opened the last
    /// SealedSecret: most SealedSecrets in a cluster were sealed for the same key, and every wrong key tried
    /// costs a full RSA decryption), the rest newest first.
    public func decryptionKeys(preferring fingerprint: String?) -> [ControllerKey] {
        let all = decryptionKeys
        guard let fingerprint, all.first?.fingerprint != fingerprint,
              let index = all.firstIndex(where: { $0.fingerprint == fingerprint }) else { return all }
        var ordered = all
        ordered.insert(ordered.remove(at: index), at: 0)
        return ordered
    }

    /// Seals with the newest key.
    public func sealer() throws -> Sealer {
        guard let newest else { throw ControllerError.noKeys }
        return Sealer(publicKey: try newest.keyPair.certificate.publicKey())
    }
}

/// The controller's key registry: loads keys from a `KeyStore`, follows changes while running (a watch in a
/// cluster, polling for a key directory), and adds new ones (at start, on the renewal timer, on SIGUSR1).
/// Keys are never deleted; a key whose Secret disappears or is relabelled stops sealing but keeps decrypting
/// until the controller restarts (upstream keeps its keys in memory the same way).
public actor KeyRegistry {
    /// Where keys are kept.
    public nonisolated let store: any KeyStore
    /// How new keys are made.
    public nonisolated let generation: KeyGenerationOptions
    /// Which time picks the newest key.
    public nonisolated let order: KeyOrderPriority
    private let logger: Logger
    private var keys: [String: ControllerKey] = [:]
    private var retired: [String: ControllerKey] = [:]
    private var justAdded: [String: Date] = [:]
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

    /// Reads the store again and applies what it holds (see `apply`).
    @discardableResult
    public func reload() async throws -> (added: [String], removed: [String]) {
        apply(try await store.activeKeySecrets())
    }

    /// Makes `stored` (every key Secret currently labelled active) the active set: new keys are registered,
    /// keys no longer there are retired (they decrypt but no longer seal or get served), retired keys that
    /// come back are active again. Their Secrets are never touched. Returns the fingerprints added and retired.
    @discardableResult
    public func apply(_ stored: [StoredKeySecret]) -> (added: [String], removed: [String]) {
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
        // A key we just wrote may not be in a watch's view yet: it is not retired for a minute.
        let now = Date()
        justAdded = justAdded.filter { now.timeIntervalSince($0.value) < 60 }
        for fingerprint in justAdded.keys where fresh[fingerprint] == nil { fresh[fingerprint] = keys[fingerprint] }
        let removed = keys.keys.filter { fresh[$0] == nil }.sorted()
        for fingerprint in added {
            retired[fingerprint] = nil
            logger.info("registered key", metadata: ["fingerprint": "\(fingerprint)", "secret": "\(fresh[fingerprint]?.name ?? "")"])
        }
        for fingerprint in removed {
            retired[fingerprint] = keys[fingerprint]
            logger.notice("key retired: its Secret was removed or is no longer labelled active; it no longer seals but still decrypts until restart",
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
        retired[fingerprint] = nil
        justAdded[fingerprint] = Date()
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
        func newestFirst(_ lhs: ControllerKey, _ rhs: ControllerKey) -> Bool {
            let (left, right) = (orderingTime(lhs), orderingTime(rhs))
            return left != right ? left > right : lhs.fingerprint < rhs.fingerprint
        }
        current = KeySnapshot(keys: keys.values.sorted(by: newestFirst), retired: retired.values.sorted(by: newestFirst))
    }
}

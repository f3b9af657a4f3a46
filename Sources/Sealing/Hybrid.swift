import Foundation

/// Why a sealed value could not be opened. Messages never include plaintext.
public enum OpenError: Error, Equatable, Sendable {
    /// The text is not standard base64.
    case notBase64
    /// Shorter than 2 bytes, or than 2 + the length prefix (upstream's `ErrTooShort`).
    case tooShort(length: Int)
    /// No private key opened the value under its scope label.
    case noKeyCouldDecrypt
}

extension OpenError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notBase64: return "the value is not valid base64"
        case .tooShort(let length): return "SealedSecret data is too short (\(length) bytes)"
        case .noKeyCouldDecrypt: return "no key could decrypt secret"
        }
    }
}

/// The Sealed Secrets hybrid scheme: a fresh AES-256 key per value, AES-256-GCM with a zero nonce,
/// the AES key wrapped with RSA-OAEP-SHA256 under the scope label;
/// blob = `u16 BE len(R) ‖ R ‖ ciphertext ‖ tag`.
public enum HybridCipher {
    /// Seals one value for `publicKey` under `label`; returns the raw blob.
    public static func seal(_ plaintext: [UInt8], publicKey: RSAKey, label: [UInt8]) throws -> [UInt8] {
        let sessionKey = try secureRandomBytes(32)
        let wrapped = try publicKey.oaepEncrypt(sessionKey, label: label)
        let sealed = try AESGCM.seal(key: sessionKey, plaintext: plaintext)
        var blob = [UInt8]()
        blob.reserveCapacity(2 + wrapped.count + sealed.count)
        blob.append(UInt8(truncatingIfNeeded: wrapped.count >> 8))
        blob.append(UInt8(truncatingIfNeeded: wrapped.count))
        blob.append(contentsOf: wrapped)
        blob.append(contentsOf: sealed)
        return blob
    }

    /// Seals one value and returns it as standard padded base64 (the `encryptedData` form).
    public static func sealToBase64(_ plaintext: [UInt8], publicKey: RSAKey, label: [UInt8]) throws -> String {
        Data(try seal(plaintext, publicKey: publicKey, label: label)).base64EncodedString()
    }

    /// Opens a raw blob, trying every key in order; throws `OpenError`.
    public static func open(_ blob: [UInt8], keys: [RSAKey], label: [UInt8]) throws -> [UInt8] {
        try openReportingKey(blob, keys: keys, label: label).plaintext
    }

    /// Opens a raw blob like `open`, and says which key (its index in `keys`) opened it.
    public static func openReportingKey(_ blob: [UInt8], keys: [RSAKey], label: [UInt8]) throws -> (plaintext: [UInt8], key: Int) {
        guard blob.count >= 2 else { throw OpenError.tooShort(length: blob.count) }
        let rsaLength = Int(blob[0]) << 8 | Int(blob[1])
        guard blob.count >= 2 + rsaLength else { throw OpenError.tooShort(length: blob.count) }
        let wrapped = blob[2 ..< 2 + rsaLength]
        let sealed = blob[(2 + rsaLength)...]
        for (index, key) in keys.enumerated() where key.modulusByteCount == rsaLength {
            guard let sessionKey = try key.oaepDecrypt(wrapped, label: label) else { continue }
            if let plaintext = try AESGCM.open(key: sessionKey, sealed: sealed) { return (plaintext, index) }
        }
        throw OpenError.noKeyCouldDecrypt
    }

    /// Opens the base64 text form.
    public static func open(base64 text: String, keys: [RSAKey], label: [UInt8]) throws -> [UInt8] {
        try openReportingKey(base64: text, keys: keys, label: label).plaintext
    }

    /// Opens the base64 text form and says which key opened it.
    public static func openReportingKey(base64 text: String, keys: [RSAKey], label: [UInt8]) throws -> (plaintext: [UInt8], key: Int) {
        guard let data = Data(base64Encoded: text) else { throw OpenError.notBase64 }
        return try openReportingKey([UInt8](data), keys: keys, label: label)
    }
}

/// How widely a sealed value may be used: bound to one name in one namespace, to a namespace, or anywhere.
public enum SealingScope: String, CaseIterable, Sendable, Codable {
    case strict
    case namespaceWide = "namespace-wide"
    case clusterWide = "cluster-wide"

    /// Annotation that marks a namespace-wide SealedSecret.
    public static let namespaceWideAnnotation = "sealedsecrets.bitnami.com/namespace-wide"
    /// Annotation that marks a cluster-wide SealedSecret.
    public static let clusterWideAnnotation = "sealedsecrets.bitnami.com/cluster-wide"

    /// The scope that annotations select, exactly as upstream reads them: the value must be exactly
    /// `"true"` and cluster-wide wins when both are set.
    public init(annotations: [String: String]) {
        if annotations[SealingScope.clusterWideAnnotation] == "true" {
            self = .clusterWide
        } else if annotations[SealingScope.namespaceWideAnnotation] == "true" {
            self = .namespaceWide
        } else {
            self = .strict
        }
    }

    /// The OAEP label: `namespace/name`, `namespace`, or empty.
    public func label(namespace: String, name: String) -> [UInt8] {
        switch self {
        case .strict: return Array("\(namespace)/\(name)".utf8)
        case .namespaceWide: return Array(namespace.utf8)
        case .clusterWide: return []
        }
    }

    /// The annotation this scope writes (nil for strict).
    public var annotation: String? {
        switch self {
        case .strict: return nil
        case .namespaceWide: return SealingScope.namespaceWideAnnotation
        case .clusterWide: return SealingScope.clusterWideAnnotation
        }
    }

    /// Rewrites the scope annotations in `annotations` to select this scope (upstream's
    /// `UpdateScopeAnnotations`): both are removed, then this scope's one is set.
    public func applying(to annotations: [String: String]) -> [String: String] {
        var result = annotations
        result[SealingScope.namespaceWideAnnotation] = nil
        result[SealingScope.clusterWideAnnotation] = nil
        if let annotation { result[annotation] = "true" }
        return result
    }
}

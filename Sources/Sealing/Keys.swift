import Foundation

/// Problems with keys and certificates.
public enum KeyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The key is valid but not RSA (Sealed Secrets only uses RSA).
    case notRSA(algorithm: String)
    /// No PEM certificate in the given text.
    case noCertificate(source: String)
    /// The certificate expired; upstream refuses to seal with it.
    case expiredCertificate(source: String, notAfter: Date)
    /// No private key could be read from a source.
    case noPrivateKey(source: String, reason: String)
    /// A file or URL could not be read.
    case unreadable(source: String, reason: String)

    public var description: String {
        switch self {
        case .notRSA(let algorithm): return "the key is \(algorithm), not RSA"
        case .noCertificate(let source): return "\(source): no PEM certificate found"
        case .expiredCertificate(let source, let notAfter):
            return "\(source): failed to encrypt using an expired certificate on \(KeyError.format(notAfter))"
        case .noPrivateKey(let source, let reason): return "\(source): no private key: \(reason)"
        case .unreadable(let source, let reason): return "\(source): \(reason)"
        }
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// The OpenSSH-style key fingerprint the controller keys its registry by:
/// `"SHA256:" + unpadded base64(SHA-256(string "ssh-rsa" ‖ mpint e ‖ mpint n))`.
public enum KeyFingerprint {
    public static func of(_ key: RSAKey) throws -> String {
        var blob: [UInt8] = []
        func append(_ bytes: [UInt8]) {
            let count = UInt32(bytes.count)
            blob += [UInt8(count >> 24 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
            blob += bytes
        }
        func mpint(_ magnitude: [UInt8]) -> [UInt8] {
            let trimmed = Array(magnitude.drop { $0 == 0 })
            if let first = trimmed.first, first & 0x80 != 0 { return [0] + trimmed }
            return trimmed
        }
        append(Array("ssh-rsa".utf8))
        append(mpint(try key.parameter("e")))
        append(mpint(try key.parameter("n")))
        let encoded = Data(sha256(blob)).base64EncodedString()
        return "SHA256:" + encoded.replacingOccurrences(of: "=", with: "")
    }
}

/// The certificate used to seal: its RSA public key, checked not to be expired.
public struct SealingCertificate: Sendable {
    /// The (first) certificate.
    public let certificate: Certificate
    /// Its RSA public key.
    public let publicKey: RSAKey

    /// Reads the first PEM certificate in `pem`, requires an RSA key, and refuses an expired certificate
    /// (NotBefore, KeyUsage and the chain are not checked, as upstream).
    public init(pem: [UInt8], source: String, now: Date = Date()) throws {
        guard let first = try Certificate.all(pem: pem).first else { throw KeyError.noCertificate(source: source) }
        do {
            publicKey = try first.publicKey()
        } catch let error as KeyError {
            throw KeyError.unreadable(source: source, reason: "certificate key: \(error)")
        }
        if let notAfter = first.notAfter, notAfter < now {
            throw KeyError.expiredCertificate(source: source, notAfter: notAfter)
        }
        certificate = first
    }
}

/// A private key with its certificate, as the controller keeps it.
public struct KeyPair: Sendable {
    public let privateKey: RSAKey
    public let certificate: Certificate

    public init(privateKey: RSAKey, certificate: Certificate) {
        self.privateKey = privateKey
        self.certificate = certificate
    }

    /// A new key pair in the controller's style: RSA (4096 by default) and a self-signed certificate
    /// valid for `validity` seconds (87600 h by default).
    public static func generate(bits: Int = 4096, validity: Int = 87_600 * 3600, commonName: String = "", now: Date = Date()) throws -> KeyPair {
        let key = try RSAKey.generate(bits: bits)
        let certificate = try Certificate.selfSigned(key: key, validFor: validity, commonName: commonName, notBefore: now)
        return KeyPair(privateKey: key, certificate: certificate)
    }

    /// The controller key Secret: `kubernetes.io/tls` with `tls.key` (PKCS#1 PEM) and `tls.crt`, labelled
    /// `sealedsecrets.bitnami.com/sealed-secrets-key: active`.
    public func controllerSecret(name: String, namespace: String) throws -> Secret {
        var metadata = ObjectMeta()
        metadata.name = name
        metadata.namespace = namespace
        metadata.labels = [ControllerKeySecret.activeLabel: "active"]
        return Secret(metadata: metadata, type: "kubernetes.io/tls",
                      data: ["tls.key": Array(try privateKey.privateKeyPEM().utf8),
                             "tls.crt": Array(try certificate.pem().utf8)])
    }
}

/// Reading and naming the controller's key Secrets.
public enum ControllerKeySecret {
    /// Label that marks a key Secret the controller loads (value `active`).
    public static let activeLabel = "sealedsecrets.bitnami.com/sealed-secrets-key"
    /// Default key prefix (and the name of the pre-0.9 legacy key).
    public static let defaultPrefix = "sealed-secrets-key"

    /// A name like the one `generateName: sealed-secrets-key` gives: the prefix and 5 random characters.
    public static func generatedName(prefix: String = defaultPrefix) throws -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        let random = try secureRandomBytes(5)
        return prefix + String(random.map { alphabet[Int($0) % alphabet.count] })
    }

    /// The key pair in a key Secret (`tls.key` PKCS#1 or PKCS#8 RSA, first cert of `tls.crt`).
    public static func keyPair(from secret: Secret, source: String) throws -> KeyPair {
        guard let keyPEM = secret.data["tls.key"] ?? secret.stringData["tls.key"].map({ Array($0.utf8) }) else {
            throw KeyError.noPrivateKey(source: source, reason: "Secret \(secret.metadata.displayName) has no tls.key")
        }
        let key: RSAKey
        do {
            key = try RSAKey.privateKey(pem: keyPEM)
        } catch {
            throw KeyError.noPrivateKey(source: source, reason: "Secret \(secret.metadata.displayName): tls.key: \(error)")
        }
        guard let certPEM = secret.data["tls.crt"] ?? secret.stringData["tls.crt"].map({ Array($0.utf8) }),
              let certificate = try Certificate.all(pem: certPEM).first else {
            throw KeyError.noCertificate(source: "\(source): Secret \(secret.metadata.displayName) tls.crt")
        }
        return KeyPair(privateKey: key, certificate: certificate)
    }
}

/// Loads private keys for offline unsealing: PEM files, controller key Secret manifests (YAML/JSON,
/// multi-document, or a `kind: List`), or directories of them.
public enum PrivateKeyLoader {
    /// Every private key found at `paths`. A file named explicitly must hold at least one key;
    /// in a directory, files without keys are skipped, but the directory must yield at least one.
    public static func load(paths: [String]) throws -> [RSAKey] {
        var keys: [RSAKey] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw KeyError.unreadable(source: path, reason: "no such file or directory")
            }
            if isDirectory.boolValue {
                let entries = try FileManager.default.contentsOfDirectory(atPath: path).sorted().filter { !$0.hasPrefix(".") }
                var found: [RSAKey] = []
                for entry in entries {
                    let file = (path as NSString).appendingPathComponent(entry)
                    var entryIsDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: file, isDirectory: &entryIsDirectory), !entryIsDirectory.boolValue else { continue }
                    if let fileKeys = try? PrivateKeyLoader.keys(inFile: file) { found += fileKeys }
                }
                guard !found.isEmpty else { throw KeyError.noPrivateKey(source: path, reason: "no file in the directory holds a private key") }
                keys += found
            } else {
                keys += try self.keys(inFile: path)
            }
        }
        return keys
    }

    /// Keys in one file.
    public static func keys(inFile path: String) throws -> [RSAKey] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyError.unreadable(source: path, reason: "cannot read the file")
        }
        return try keys(in: [UInt8](data), source: path)
    }

    /// Keys in file contents: PEM private key(s), or Secret manifests holding `tls.key`.
    public static func keys(in bytes: [UInt8], source: String) throws -> [RSAKey] {
        let text = String(decoding: bytes, as: UTF8.self)
        if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
            do {
                return [try RSAKey.privateKey(pem: bytes)]
            } catch {
                throw KeyError.noPrivateKey(source: source, reason: "\(error)")
            }
        }
        let documents: [ManifestValue]
        do {
            documents = try ManifestReader.documents(in: text, source: source)
        } catch {
            throw KeyError.noPrivateKey(source: source, reason: "neither a PEM private key nor a readable Secret manifest")
        }
        var keys: [RSAKey] = []
        for (index, document) in documents.enumerated() {
            let items: [ManifestValue]
            if document.object?["kind"]?.string == "List", case .array(let listItems)? = document.object?["items"] {
                items = listItems
            } else {
                items = [document]
            }
            for item in items where Secret.isSecret(item) {
                let secret = try Secret(manifest: item, source: source, document: index + 1)
                keys.append(try ControllerKeySecret.keyPair(from: secret, source: source).privateKey)
            }
        }
        guard !keys.isEmpty else { throw KeyError.noPrivateKey(source: source, reason: "no Secret with tls.key found") }
        return keys
    }
}

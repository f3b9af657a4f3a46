import COpenSSL
import Foundation

// All unsafe pointer code of the Sealing module lives in this file. Everything else works with
// `[UInt8]`, `Data` and the handle classes below, which own their C objects and free them in
// `deinit`.

/// A failure reported by libcrypto, with the operation that failed and OpenSSL's own reason.
public struct CryptoError: Error, CustomStringConvertible, Sendable {
    /// What we were doing, in words a user can act on.
    public let operation: String
    /// OpenSSL's reason string (the first entry of its error queue), if any.
    public let reason: String?

    init(_ operation: String, collectReason: Bool = true) {
        self.operation = operation
        if collectReason {
            self.reason = OpenSSLErrors.drain()
        } else {
            OpenSSLErrors.clear()
            self.reason = nil
        }
    }

    public var description: String {
        if let reason, !reason.isEmpty { return "\(operation): \(reason)" }
        return operation
    }
}

/// Reads and clears libcrypto's per-thread error queue.
enum OpenSSLErrors {
    static func drain() -> String? {
        let code = ERR_get_error()
        defer { ERR_clear_error() }
        guard code != 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func clear() { ERR_clear_error() }
}

/// Cryptographically secure random bytes from OpenSSL's DRBG.
func secureRandomBytes(_ count: Int) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    guard count > 0 else { return out }
    let rc = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
    guard rc == 1 else { throw CryptoError("generating random bytes") }
    return out
}

/// SHA-256 of `bytes`.
func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
    bytes.withUnsafeBufferPointer { input in
        digest.withUnsafeMutableBufferPointer { out in
            _ = SHA256(input.baseAddress, input.count, out.baseAddress)
        }
    }
    return digest
}

// MARK: - Memory BIOs

/// A memory BIO, used to move PEM text in and out of libcrypto.
private final class MemoryBIO {
    let pointer: OpaquePointer
    private let owned: UnsafeMutableRawPointer?

    /// A read-only BIO over a copy of `bytes`.
    init(reading bytes: [UInt8]) throws {
        // BIO_new_mem_buf does not copy; keep our own copy alive for the BIO's lifetime.
        let copy = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { copy.copyMemory(from: base, byteCount: source.count) }
        }
        guard let bio = BIO_new_mem_buf(copy, Int32(bytes.count)) else {
            copy.deallocate()
            throw CryptoError("allocating a memory BIO")
        }
        pointer = bio
        owned = copy
    }

    /// An empty, writable BIO.
    init() throws {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError("allocating a memory BIO") }
        pointer = bio
        owned = nil
    }

    /// Everything written to the BIO so far.
    var contents: [UInt8] {
        var base: UnsafeMutablePointer<CChar>?
        let length = withUnsafeMutablePointer(to: &base) { BIO_ctrl(pointer, BIO_CTRL_INFO, 0, $0) }
        guard length > 0, let base else { return [] }
        return base.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    deinit {
        BIO_free(pointer)
        owned?.deallocate()
    }
}

// MARK: - RSA keys

/// An RSA key held by libcrypto (`EVP_PKEY`): a private key, or only its public half.
public final class RSAKey: @unchecked Sendable {
    let pointer: OpaquePointer
    /// Whether the key holds private components.
    public let hasPrivatePart: Bool

    init(owning pointer: OpaquePointer, hasPrivatePart: Bool) {
        self.pointer = pointer
        self.hasPrivatePart = hasPrivatePart
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Generates a fresh RSA key pair with e = 65537.
    public static func generate(bits: Int = 4096) throws -> RSAKey {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nil) else { throw CryptoError("creating an RSA key context") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) == 1 else {
            throw CryptoError("setting up RSA-\(bits) key generation")
        }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen(ctx, &key) == 1, let key else { throw CryptoError("generating an RSA-\(bits) key") }
        return RSAKey(owning: key, hasPrivatePart: true)
    }

    /// Reads the first private key in PEM text (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    /// Throws `KeyError.notRSA` for a valid key of another algorithm.
    public static func privateKey(pem: [UInt8]) throws -> RSAKey {
        let bio = try MemoryBIO(reading: pem)
        guard let key = PEM_read_bio_PrivateKey(bio.pointer, nil, nil, nil) else {
            throw CryptoError("reading a PEM private key")
        }
        let wrapped = RSAKey(owning: key, hasPrivatePart: true)
        guard wrapped.isRSA else { throw KeyError.notRSA(algorithm: wrapped.algorithmName) }
        return wrapped
    }

    /// Reads a PEM public key (`PUBLIC KEY` SubjectPublicKeyInfo).
    public static func publicKey(pem: [UInt8]) throws -> RSAKey {
        let bio = try MemoryBIO(reading: pem)
        guard let key = PEM_read_bio_PUBKEY(bio.pointer, nil, nil, nil) else {
            throw CryptoError("reading a PEM public key")
        }
        let wrapped = RSAKey(owning: key, hasPrivatePart: false)
        guard wrapped.isRSA else { throw KeyError.notRSA(algorithm: wrapped.algorithmName) }
        return wrapped
    }

    /// Whether libcrypto identifies the key as RSA.
    var isRSA: Bool { EVP_PKEY_get_base_id(pointer) == EVP_PKEY_RSA }

    /// The short name of the key's algorithm, for error messages.
    var algorithmName: String {
        let id = EVP_PKEY_get_base_id(pointer)
        if let name = OBJ_nid2sn(id) { return String(cString: name) }
        return "unknown"
    }

    /// Size of the modulus in bytes (the size of every RSA ciphertext under this key).
    public var modulusByteCount: Int { Int(EVP_PKEY_get_size(pointer)) }

    /// Size of the modulus in bits.
    public var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// Big-endian bytes of an RSA parameter (`"n"` or `"e"`), without leading zeros.
    func parameter(_ name: String) throws -> [UInt8] {
        var bn: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pointer, name, &bn) == 1, let bn else { throw CryptoError("reading RSA parameter \(name)") }
        defer { BN_free(bn) }
        let count = (Int(BN_num_bits(bn)) + 7) / 8
        var out = [UInt8](repeating: 0, count: count)
        _ = out.withUnsafeMutableBufferPointer { BN_bn2bin(bn, $0.baseAddress) }
        return out
    }

    /// PEM text of the private key: PKCS#1 (`RSA PRIVATE KEY`, as the controller stores it) or PKCS#8.
    public func privateKeyPEM(pkcs8: Bool = false) throws -> String {
        guard hasPrivatePart else { throw CryptoError("writing a private key: this key has only its public part", collectReason: false) }
        let bio = try MemoryBIO()
        let rc = pkcs8
            ? PEM_write_bio_PrivateKey(bio.pointer, pointer, nil, nil, 0, nil, nil)
            : PEM_write_bio_PrivateKey_traditional(bio.pointer, pointer, nil, nil, 0, nil, nil)
        guard rc == 1 else { throw CryptoError("writing a PEM private key") }
        return String(decoding: bio.contents, as: UTF8.self)
    }

    /// PEM text of the public key (SubjectPublicKeyInfo).
    public func publicKeyPEM() throws -> String {
        let bio = try MemoryBIO()
        guard PEM_write_bio_PUBKEY(bio.pointer, pointer) == 1 else { throw CryptoError("writing a PEM public key") }
        return String(decoding: bio.contents, as: UTF8.self)
    }

    /// Builds an RSA context set up for OAEP with SHA-256 and MGF1-SHA-256 and the given label
    /// (no label at all when it is empty, which gives lHash = SHA-256("")).
    private func oaepContext(encrypt: Bool, label: [UInt8]) throws -> OpaquePointer {
        guard let ctx = EVP_PKEY_CTX_new(pointer, nil) else { throw CryptoError("creating an RSA context") }
        let initialised = encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)
        guard initialised == 1,
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1,
              EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1,
              EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1
        else {
            EVP_PKEY_CTX_free(ctx)
            throw CryptoError("setting up RSA-OAEP (SHA-256)")
        }
        if !label.isEmpty {
            // The context takes ownership of the label, so it must come from OpenSSL's allocator.
            guard let copy = label.withUnsafeBytes({ CRYPTO_memdup($0.baseAddress, label.count, #fileID, #line) }) else {
                EVP_PKEY_CTX_free(ctx)
                throw CryptoError("allocating the OAEP label")
            }
            guard EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, copy, Int32(label.count)) == 1 else {
                CRYPTO_free(copy, #fileID, #line)
                EVP_PKEY_CTX_free(ctx)
                throw CryptoError("setting the OAEP label")
            }
        }
        return ctx
    }

    /// RSA-OAEP(SHA-256, MGF1-SHA-256) encryption of a short message under `label`.
    public func oaepEncrypt(_ message: [UInt8], label: [UInt8]) throws -> [UInt8] {
        let ctx = try oaepContext(encrypt: true, label: label)
        defer { EVP_PKEY_CTX_free(ctx) }
        var outLength = modulusByteCount
        var out = [UInt8](repeating: 0, count: outLength)
        let rc = message.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { EVP_PKEY_encrypt(ctx, $0.baseAddress, &outLength, input.baseAddress, input.count) }
        }
        guard rc == 1 else { throw CryptoError("RSA-OAEP encryption") }
        return Array(out.prefix(outLength))
    }

    /// RSA-OAEP(SHA-256, MGF1-SHA-256) decryption under `label`; nil when the ciphertext does not open
    /// with this key and label (the usual, expected failure when several keys are tried).
    public func oaepDecrypt(_ ciphertext: ArraySlice<UInt8>, label: [UInt8]) throws -> [UInt8]? {
        guard hasPrivatePart else { throw CryptoError("RSA decryption needs a private key", collectReason: false) }
        let ctx = try oaepContext(encrypt: false, label: label)
        defer { EVP_PKEY_CTX_free(ctx) }
        var outLength = modulusByteCount
        var out = [UInt8](repeating: 0, count: outLength)
        let rc = ciphertext.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { EVP_PKEY_decrypt(ctx, $0.baseAddress, &outLength, input.baseAddress, input.count) }
        }
        guard rc == 1 else {
            OpenSSLErrors.clear()
            return nil
        }
        return Array(out.prefix(outLength))
    }

    /// Whether both keys have the same public part (modulus and exponent).
    public func hasSamePublicKey(as other: RSAKey) -> Bool {
        EVP_PKEY_eq(pointer, other.pointer) == 1
    }
}

// MARK: - AES-256-GCM

/// AES-256-GCM with the 12-byte all-zero nonce and no AAD, as Sealed Secrets uses it (each key seals one value).
enum AESGCM {
    static let tagLength = 16

    /// Returns `ciphertext ‖ tag`.
    static func seal(key: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        guard key.count == 32 else { throw CryptoError("AES-256 needs a 32-byte key", collectReason: false) }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError("creating an AES-GCM context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let nonce = [UInt8](repeating: 0, count: 12)
        guard EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, nonce) == 1 else { throw CryptoError("setting up AES-256-GCM") }
        var out = [UInt8](repeating: 0, count: plaintext.count + tagLength)
        var written: Int32 = 0
        var total = 0
        let ok = out.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            if !plaintext.isEmpty {
                let rc = plaintext.withUnsafeBufferPointer { EVP_EncryptUpdate(ctx, base, &written, $0.baseAddress, Int32($0.count)) }
                guard rc == 1 else { return false }
                total = Int(written)
            }
            guard EVP_EncryptFinal_ex(ctx, base + total, &written) == 1 else { return false }
            total += Int(written)
            return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), base + total) == 1
        }
        guard ok else { throw CryptoError("AES-256-GCM encryption") }
        return Array(out.prefix(total + tagLength))
    }

    /// Opens `ciphertext ‖ tag`; nil when authentication fails.
    static func open(key: [UInt8], sealed: ArraySlice<UInt8>) throws -> [UInt8]? {
        guard key.count == 32, sealed.count >= tagLength else { return nil }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError("creating an AES-GCM context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let nonce = [UInt8](repeating: 0, count: 12)
        guard EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, nonce) == 1 else { throw CryptoError("setting up AES-256-GCM") }
        let body = sealed.dropLast(tagLength)
        var tag = Array(sealed.suffix(tagLength))
        var out = [UInt8](repeating: 0, count: body.count + tagLength)
        var written: Int32 = 0
        var total = 0
        let ok = out.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            if !body.isEmpty {
                let rc = body.withUnsafeBufferPointer { EVP_DecryptUpdate(ctx, base, &written, $0.baseAddress, Int32($0.count)) }
                guard rc == 1 else { return false }
                total = Int(written)
            }
            let tagSet = tag.withUnsafeMutableBufferPointer {
                EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), $0.baseAddress)
            }
            guard tagSet == 1, EVP_DecryptFinal_ex(ctx, base + total, &written) == 1 else { return false }
            total += Int(written)
            return true
        }
        guard ok else {
            OpenSSLErrors.clear()
            // Don't keep unauthenticated plaintext around.
            for index in out.indices { out[index] = 0 }
            return nil
        }
        return Array(out.prefix(total))
    }
}

// MARK: - X.509 certificates

/// An X.509 certificate held by libcrypto.
public final class Certificate: @unchecked Sendable {
    let pointer: OpaquePointer

    init(owning pointer: OpaquePointer) { self.pointer = pointer }
    deinit { X509_free(pointer) }

    /// Reads every certificate in PEM text, in order.
    public static func all(pem: [UInt8]) throws -> [Certificate] {
        let bio = try MemoryBIO(reading: pem)
        var certificates: [Certificate] = []
        while let cert = PEM_read_bio_X509(bio.pointer, nil, nil, nil) {
            certificates.append(Certificate(owning: cert))
        }
        OpenSSLErrors.clear() // the loop ends on "no start line"
        return certificates
    }

    /// Creates a self-signed certificate in the controller's style: empty (or given CN) subject and
    /// issuer, random 128-bit serial, sha256WithRSAEncryption, critical KeyUsage encipherOnly, critical
    /// BasicConstraints CA:TRUE and a SubjectKeyIdentifier.
    public static func selfSigned(key: RSAKey, validFor seconds: Int, commonName: String = "", notBefore: Date = Date()) throws -> Certificate {
        guard let cert = X509_new() else { throw CryptoError("allocating a certificate") }
        let wrapped = Certificate(owning: cert)
        guard X509_set_version(cert, 2) == 1 else { throw CryptoError("setting the certificate version") }

        guard let serial = BN_new() else { throw CryptoError("allocating the serial number") }
        defer { BN_free(serial) }
        guard BN_rand(serial, 128, -1, 0) == 1, BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) != nil else {
            throw CryptoError("setting a random serial number")
        }

        var start = time_t(notBefore.timeIntervalSince1970)
        guard X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0, &start) != nil,
              X509_time_adj_ex(X509_getm_notAfter(cert), Int32(seconds / 86_400), seconds % 86_400, &start) != nil
        else { throw CryptoError("setting the validity period") }

        guard let name = X509_get_subject_name(cert) else { throw CryptoError("reading the subject name") }
        if !commonName.isEmpty {
            let bytes = Array(commonName.utf8)
            guard X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, bytes, Int32(bytes.count), -1, 0) == 1 else {
                throw CryptoError("setting the certificate common name")
            }
        }
        guard X509_set_issuer_name(cert, name) == 1, X509_set_pubkey(cert, key.pointer) == 1 else {
            throw CryptoError("setting the certificate issuer and key")
        }

        var ctx = X509V3_CTX()
        X509V3_set_ctx(&ctx, cert, cert, nil, nil, 0)
        for (nid, value) in [(NID_key_usage, "critical,encipherOnly"),
                             (NID_basic_constraints, "critical,CA:TRUE"),
                             (NID_subject_key_identifier, "hash")] {
            guard let ext = X509V3_EXT_conf_nid(nil, &ctx, nid, value) else { throw CryptoError("building certificate extension \(value)") }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(cert, ext, -1) == 1 else { throw CryptoError("adding certificate extension \(value)") }
        }
        guard X509_sign(cert, key.pointer, EVP_sha256()) > 0 else { throw CryptoError("signing the certificate") }
        return wrapped
    }

    /// The certificate's public key; throws `KeyError.notRSA` when it isn't RSA.
    public func publicKey() throws -> RSAKey {
        guard let key = X509_get_pubkey(pointer) else { throw CryptoError("reading the certificate's public key") }
        let wrapped = RSAKey(owning: key, hasPrivatePart: false)
        guard wrapped.isRSA else { throw KeyError.notRSA(algorithm: wrapped.algorithmName) }
        return wrapped
    }

    /// PEM text (`CERTIFICATE`).
    public func pem() throws -> String {
        let bio = try MemoryBIO()
        guard PEM_write_bio_X509(bio.pointer, pointer) == 1 else { throw CryptoError("writing a PEM certificate") }
        return String(decoding: bio.contents, as: UTF8.self)
    }

    /// Start of the validity period.
    public var notBefore: Date? { Certificate.date(X509_get0_notBefore(pointer)) }
    /// End of the validity period.
    public var notAfter: Date? { Certificate.date(X509_get0_notAfter(pointer)) }

    private static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// Whether BasicConstraints says CA:TRUE.
    public var isCA: Bool { X509_get_extension_flags(pointer) & UInt32(EXFLAG_CA) != 0 }

    /// The KeyUsage bits (OpenSSL's `KU_*` flags; `KU_ENCIPHER_ONLY` is 0x0001).
    public var keyUsage: UInt32 { X509_get_key_usage(pointer) }

    /// The subject in OpenSSL's one-line form (empty for the controller's default empty subject).
    public var subject: String {
        guard let name = X509_get_subject_name(pointer), let text = X509_NAME_oneline(name, nil, 0) else { return "" }
        defer { CRYPTO_free(text, #fileID, #line) }
        return String(cString: text)
    }
}

import COpenSSL

/// Content-based finding ids. `path:rule:hash`, where hash is the first 16 hex digits of SHA-256 of
/// the secret: moving a line, reformatting or squash-merging keeps the id; a different secret on the
/// same line gets a new one; the secret itself cannot be read back from it.
public enum Fingerprint {
    public static func content(file: String, ruleID: String, secret: String) -> String {
        "\(file):\(ruleID):\(secretHash(secret))"
    }

    /// First 16 hex digits of SHA-256(secret).
    public static func secretHash(_ secret: String) -> String {
        String(sha256Hex(Array(secret.utf8)).prefix(16))
    }

    /// SHA-256 of `bytes` as 64 lower-case hex digits (OpenSSL's implementation).
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var size: UInt32 = 0
        _ = bytes.withUnsafeBytes { buf in
            EVP_Digest(buf.baseAddress, buf.count, &digest, &size, EVP_sha256(), nil)
        }
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest {
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

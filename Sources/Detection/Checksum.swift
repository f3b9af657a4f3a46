import Foundation

/// Checksums embedded in some token formats; a candidate that fails its checksum is not a token.
public enum Checksum: String, Sendable, CaseIterable {
    /// GitHub-style: base62 payload after the last `_` whose last 6 chars are base62(CRC32(rest)).
    /// Used by GitHub classic tokens and npm tokens.
    case github
    /// PyPI API tokens: `pypi-` + base64url macaroon whose bytes name `pypi.org`.
    case pypi

    /// Whether `secret` carries a valid checksum for this scheme.
    public func isValid(_ secret: String) -> Bool {
        switch self {
        case .github: return Self.validGitHub(secret)
        case .pypi: return Self.validPyPI(secret)
        }
    }

    static let base62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Base62 of `value`, left-padded with `0` to `width`.
    static func base62Encode(_ value: UInt32, width: Int) -> String {
        var v = value
        var digits = [UInt8]()
        repeat {
            digits.append(base62[Int(v % 62)])
            v /= 62
        } while v > 0
        while digits.count < width { digits.append(UInt8(ascii: "0")) }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    static func validGitHub(_ secret: String) -> Bool {
        let payload = Array(secret.utf8.split(separator: UInt8(ascii: "_"), omittingEmptySubsequences: false).last ?? [])
        guard payload.count > 6 else { return false }
        let body = payload[0..<(payload.count - 6)]
        let check = String(decoding: payload[(payload.count - 6)...], as: UTF8.self)
        return base62Encode(CRC32.checksum(body), width: 6) == check
    }

    static func validPyPI(_ secret: String) -> Bool {
        guard secret.hasPrefix("pypi-") else { return false }
        var body = String(secret.dropFirst(5)).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while body.count % 4 != 0 { body += "=" }
        guard let data = Data(base64Encoded: body) else { return false }
        return data.range(of: Data("pypi.org".utf8)) != nil
    }
}

/// CRC-32 (IEEE, as zlib computes it).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

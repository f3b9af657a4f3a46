import Foundation

/// Recognises Sealed Secrets ciphertext: base64 of `u16 big-endian length ‖ RSA block ‖ AES-GCM
/// output`, where the length is an RSA modulus size and the GCM output holds at least the 16-byte
/// tag. Such values are safe to commit and are never reported; a random high-entropy string almost
/// never has this shape (the first two bytes must spell exactly 256, 384 or 512).
public enum SealedBlob {
    static let rsaBlockSizes: Set<Int> = [256, 384, 512]

    public static func isSealed(base64 text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: "\"' \t\r\n"))
        guard trimmed.count >= 360, trimmed.count % 4 == 0, let data = Data(base64Encoded: trimmed) else { return false }
        return isSealed(bytes: [UInt8](data))
    }

    public static func isSealed(bytes: [UInt8]) -> Bool {
        guard bytes.count >= 2 else { return false }
        let length = Int(bytes[0]) << 8 | Int(bytes[1])
        return rsaBlockSizes.contains(length) && bytes.count >= 2 + length + 16
    }
}

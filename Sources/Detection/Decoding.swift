/// Text encodings the detector looks through: a secret base64'd into a config value or
/// percent-encoded into a URL is still a secret.
public enum Encoding: String, Sendable {
    case base64, hex, percent, unicode
}

/// One encoded span of the input and what it decodes to.
struct EncodedSegment {
    var range: Range<Int>
    var encoding: Encoding
    var decoded: [UInt8]
}

/// Finds and decodes encoded spans. Decoded text is kept only when it is printable, so long
/// identifiers and paths (which are valid base64 alphabet) cost one failed check each.
enum SegmentDecoder {
    static let minBase64 = 16
    static let minHex = 32

    private static let classTable: [UInt8] = {
        // bit 1: base64 std/url alphabet, bit 2: hex digit
        var t = [UInt8](repeating: 0, count: 256)
        for c in UInt8(ascii: "A")...UInt8(ascii: "Z") { t[Int(c)] |= 1 }
        for c in UInt8(ascii: "a")...UInt8(ascii: "z") { t[Int(c)] |= 1 }
        for c in UInt8(ascii: "0")...UInt8(ascii: "9") { t[Int(c)] |= 3 }
        for c in UInt8(ascii: "a")...UInt8(ascii: "f") { t[Int(c)] |= 2 }
        for c in UInt8(ascii: "A")...UInt8(ascii: "F") { t[Int(c)] |= 2 }
        for c in "+/-_".utf8 { t[Int(c)] |= 1 }
        return t
    }()

    private static let base64Values: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = Int8(i) }
        t[Int(UInt8(ascii: "-"))] = 62
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()

    /// Patterns (in the Vectorscan database) marking where an escaped span may start; the match
    /// end minus `width` is the span's first byte. Base64 and hex runs are found by `encodedRuns`
    /// instead: as Vectorscan patterns they halved the whole database's throughput.
    enum Trigger: Int, CaseIterable {
        case percent
        case unicode

        var expression: String {
            switch self {
            case .percent: return "%[0-9A-Fa-f]{2}"
            case .unicode: return "\\\\u[0-9A-Fa-f]{4}"
            }
        }

        var width: Int {
            switch self {
            case .percent: return 3
            case .unicode: return 6
            }
        }
    }

    /// Starts of maximal base64-alphabet runs at least `minBase64` long whose first character can
    /// begin base64 of text (I-Z, a-f, or C-D for text with short lines) or that are all hex.
    static func encodedRuns(in bytes: UnsafeRawBufferPointer) -> [Int] {
        classTable.withUnsafeBufferPointer { table in encodedRuns(in: bytes, table: table) }
    }

    /// Works on 64-byte blocks: one bit per byte says "in the alphabet", and shifts of that mask find
    /// runs of 16 set bits without looking at each run (source code is mostly identifier characters,
    /// so a byte-by-byte walk over runs was a tenth of a history scan). A run that reaches the top
    /// of a block carries its length into the next.
    private static func encodedRuns(in bytes: UnsafeRawBufferPointer, table: UnsafeBufferPointer<UInt8>) -> [Int] {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
              let table = table.baseAddress else { return [] }
        let n = bytes.count
        var starts = [Int]()
        func take(_ start: Int) {
            let first = base[start]
            let textStart = (first >= 73 && first <= 90) || (first >= 97 && first <= 102) || first == 67 || first == 68
            if textStart || table[Int(first)] & 2 != 0 { starts.append(start) }
        }
        var carry = 0            // set bits at the top of the previous blocks (the open run's length so far)
        var carryStart = 0       // where that run starts
        var carryTaken = false   // the open run was already reported
        var blockStart = 0
        while blockStart < n {
            let count = min(64, n - blockStart)
            var mask: UInt64 = 0
            let block = base + blockStart
            if count == 64 {
                let raw = UnsafeRawPointer(block)
                for word in 0..<8 {
                    mask |= alphabetBits(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * word, as: UInt64.self))) << UInt64(8 * word)
                }
            } else {
                for k in 0..<count { mask |= UInt64(table[Int(block[k])] & 1) << UInt64(k) }
            }
            // Continue the run open at the previous block's top.
            if carry > 0 {
                let lead = (~mask).trailingZeroBitCount   // 64 when every bit is set
                if lead == 64 {
                    carry += 64
                    if !carryTaken && carry >= minBase64 { take(carryStart); carryTaken = true }
                    blockStart += 64
                    continue
                }
                if !carryTaken && carry + lead >= minBase64 { take(carryStart) }
                mask &= ~((UInt64(1) << UInt64(lead)) &- 1)
                carry = 0
                carryTaken = false
            }
            // Runs starting in this block: bit i of `long` says bits i...i+15 are all set.
            var long = mask & (mask >> 1)
            long &= long >> 2
            long &= long >> 4
            long &= long >> 8
            var hits = mask & ~(mask << 1) & long
            while hits != 0 {
                take(blockStart + hits.trailingZeroBitCount)
                hits &= hits &- 1
            }
            // A run reaching the block's top continues into the next block.
            let top = count == 64 ? (~mask).leadingZeroBitCount : 0
            if top > 0 {
                carry = top
                carryStart = blockStart + 64 - top
                carryTaken = top >= minBase64   // already found by `long` above
            }
            blockStart += 64
        }
        return starts
    }

    /// One bit per byte of `word` (8 bytes, little-endian, first byte in bit 0): is it in the
    /// base64 alphabet of `classTable` (A-Z a-z 0-9 + / - _)? Byte-parallel range tests in one
    /// register instead of eight table lookups: a fifth faster, and this runs on every byte scanned.
    @inline(__always)
    static func alphabetBits(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080, low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let seven = word & low7                                  // each byte's low 7 bits: no carry between bytes below
        let folded = (word | 0x2020_2020_2020_2020) & low7        // A-Z folded onto a-z
        // High bit of each byte set when the byte is >= c, or <= c, or == c (for 7-bit bytes).
        func atLeast(_ v: UInt64, _ c: UInt64) -> UInt64 { (v &+ (0x80 - c) &* ones) & high }
        func atMost(_ v: UInt64, _ c: UInt64) -> UInt64 { ~(v &+ (0x7F - c) &* ones) & high }
        func equal(_ c: UInt64) -> UInt64 { ~((seven ^ (c &* ones)) &+ low7) & high }
        var member = (atLeast(folded, 0x61) & atMost(folded, 0x7A))     // letters
            | (atLeast(seven, 0x2F) & atMost(seven, 0x39))                 // '/' and digits
            | equal(0x2B) | equal(0x2D) | equal(0x5F)                      // + - _
        member &= ~word & high                                            // bytes >= 0x80 are not
        // Gather the eight high bits into the low byte.
        return ((member >> 7) &* 0x0102_0408_1020_4080) >> 56
    }

    /// Decodable segments starting at the trigger positions, decoding at most `budget` bytes.
    static func segments(in bytes: UnsafeRawBufferPointer, triggers: [[Int]], budget: inout Int) -> [EncodedSegment] {
        var starts = [(start: Int, trigger: Trigger?)]()
        for trigger in Trigger.allCases {
            for end in triggers[trigger.rawValue] { starts.append((max(0, end - trigger.width), trigger)) }
        }
        for start in encodedRuns(in: bytes) { starts.append((start, nil)) }
        guard !starts.isEmpty else { return [] }
        starts.sort { $0.start < $1.start }
        return classTable.withUnsafeBufferPointer { table in
            var result = [EncodedSegment]()
            var covered = 0
            for (start, trigger) in starts where start >= covered && budget > 0 {
                switch trigger {
                case .percent?, .unicode?:
                    let seg = escapeRun(bytes, from: start)
                    // A lone escape (`%2F` in a URL) decodes nothing: the rest of the token may
                    // still hold base64 or hex, so only this escape is covered.
                    covered = max(covered, seg.decoded.isEmpty ? start + 1 : seg.range.upperBound)
                    if !seg.decoded.isEmpty {
                        budget -= seg.decoded.count
                        if isPrintable(seg.decoded) { result.append(seg) }
                    }
                case nil:
                    var j = start
                    var allHex = true
                    while j < bytes.count {
                        let k = table[Int(bytes[j])]
                        if k & 1 == 0 { break }
                        if k & 2 == 0 { allHex = false }
                        j += 1
                    }
                    var end = j
                    while end < bytes.count, end - j < 2, bytes[end] == UInt8(ascii: "=") { end += 1 }
                    covered = max(covered, end)
                    let length = j - start
                    if allHex && length >= minHex && length % 2 == 0 {
                        if let decoded = decodeHex(bytes, start..<j) {
                            budget -= decoded.count
                            result.append(EncodedSegment(range: start..<j, encoding: .hex, decoded: decoded))
                        }
                    } else if !allHex && length >= minBase64, let decoded = decodeBase64(bytes, start..<j) {
                        budget -= decoded.count
                        result.append(EncodedSegment(range: start..<end, encoding: .base64, decoded: decoded))
                    }
                }
            }
            return result
        }
    }

    /// Printable ASCII/UTF-8 text with at most 5% other bytes.
    /// Bytes >= 0x80 count as text only when they form UTF-8: random binary (a hex digest) has
    /// few control bytes but almost never valid UTF-8. A character cut at the end is not held
    /// against the text (the hex decoder checks an 8-byte prefix).
    static func isPrintable(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 6 else { return false }
        var bad = 0
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 {
                if !(b >= 0x20 && b < 0x7F) && b != 0x09 && b != 0x0A && b != 0x0D { bad += 1 }
                i += 1
                continue
            }
            let length = b >= 0xF5 ? 0 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0
            if length > 0 && i + length > n && (i + 1..<n).allSatisfy({ bytes[$0] & 0xC0 == 0x80 }) { break }
            if length == 0 || i + length > n || !(i + 1..<i + length).allSatisfy({ bytes[$0] & 0xC0 == 0x80 }) {
                bad += 1
                i += 1
                continue
            }
            i += length
        }
        return bad * 20 <= bytes.count
    }

    static func decodeHex(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8]? {
        func value(_ c: UInt8) -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - 87
            default: return c - 55
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(range.count / 2)
        var i = range.lowerBound
        while i + 1 < range.upperBound {
            let b = value(bytes[i]) << 4 | value(bytes[i + 1])
            // Give up early on binary: hex digests decode to random bytes.
            if out.count == 8 && !isPrintable(out) { return nil }
            out.append(b)
            i += 2
        }
        return isPrintable(out) ? out : nil
    }

    static func decodeBase64(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8]? {
        // Printable ASCII (0x20-0x7E) has its top six bits in 8...31, so the first character of
        // every 4-character group of base64'd text is one of I-Z or a-f: reject anything else
        // before allocating (most long identifiers and paths fail here).
        var probe = range.lowerBound
        while probe < min(range.upperBound, range.lowerBound + 16) {
            let v = base64Values[Int(bytes[probe])]
            if v < 2 || v > 31 || (v > 3 && v < 8) { return nil }  // 2...3: \t \n \r; 8...31: 0x20-0x7F
            probe += 4
        }
        var out = [UInt8]()
        out.reserveCapacity(range.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for i in range {
            let v = base64Values[Int(bytes[i])]
            if v < 0 { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                let b = UInt8((acc >> UInt32(bits)) & 0xFF)
                if b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D { return nil }
                if b == 0x7F { return nil }
                out.append(b)
            }
        }
        return isPrintable(out) ? out : nil
    }

    /// A run of `%XX` or `\uXXXX` escapes mixed with plain non-space characters, decoded; `decoded`
    /// is empty (and `range` ends where the run ends) when it holds fewer than two escapes.
    private static func escapeRun(_ bytes: UnsafeRawBufferPointer, from start: Int) -> EncodedSegment {
        let n = bytes.count
        // Extend left to the start of the token, so the whole value is decoded at once.
        var lo = start
        while lo > 0, isTokenByte(bytes[lo - 1]) { lo -= 1 }
        var i = lo
        var out = [UInt8]()
        var escapes = 0
        var encoding: Encoding = .percent
        while i < n, isTokenByte(bytes[i]) {
            let c = bytes[i]
            if c == UInt8(ascii: "%"), i + 2 < n, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h << 4 | l)
                escapes += 1
                i += 3
            } else if c == UInt8(ascii: "\\"), i + 5 < n, bytes[i + 1] == UInt8(ascii: "u"),
                      let a = hexValue(bytes[i + 2]), let b = hexValue(bytes[i + 3]),
                      let c2 = hexValue(bytes[i + 4]), let d = hexValue(bytes[i + 5]) {
                let scalar = UInt32(a) << 12 | UInt32(b) << 8 | UInt32(c2) << 4 | UInt32(d)
                if let u = Unicode.Scalar(scalar) { out.append(contentsOf: Array(String(Character(u)).utf8)) }
                escapes += 1
                encoding = .unicode
                i += 6
            } else {
                out.append(c)
                i += 1
            }
        }
        guard escapes >= 2 else { return EncodedSegment(range: start..<i, encoding: encoding, decoded: []) }
        return EncodedSegment(range: lo..<i, encoding: encoding, decoded: out)
    }

    private static func isTokenByte(_ c: UInt8) -> Bool {
        c > 0x20 && c < 0x7F && c != UInt8(ascii: "\"") && c != UInt8(ascii: "'") && c != UInt8(ascii: "`")
            && c != UInt8(ascii: "<") && c != UInt8(ascii: ">")
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - 55
        default: return nil
        }
    }
}

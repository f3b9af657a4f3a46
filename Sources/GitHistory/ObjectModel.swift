import Foundation

/// A git object id (SHA-1), printed as 40 lowercase hex digits.
public struct ObjectID: Hashable, Sendable, Comparable, CustomStringConvertible {
    // Three words instead of 20 bytes keep hashing and comparison cheap in the walk's seen-sets.
    let high: UInt64
    let middle: UInt64
    let low: UInt32

    init(high: UInt64, middle: UInt64, low: UInt32) {
        self.high = high
        self.middle = middle
        self.low = low
    }

    /// Parses 40 hex digits; nil for anything else.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 40 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 20)
        for index in 0..<20 {
            guard let hi = Self.nibble(utf8[2 * index]), let lo = Self.nibble(utf8[2 * index + 1]) else { return nil }
            bytes[index] = hi << 4 | lo
        }
        self.init(bytes: bytes)
    }

    /// Builds an id from its 20 raw bytes.
    init(bytes: [UInt8]) {
        var high: UInt64 = 0, middle: UInt64 = 0, low: UInt32 = 0
        for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
        for index in 8..<16 { middle = middle << 8 | UInt64(bytes[index]) }
        for index in 16..<20 { low = low << 8 | UInt32(bytes[index]) }
        self.init(high: high, middle: middle, low: low)
    }

    /// The 20 raw bytes, most significant first.
    var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        for index in 0..<8 { out[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index))) }
        for index in 0..<8 { out[8 + index] = UInt8(truncatingIfNeeded: middle >> (56 - 8 * UInt64(index))) }
        for index in 0..<4 { out[16 + index] = UInt8(truncatingIfNeeded: low >> (24 - 8 * UInt32(index))) }
        return out
    }

    public var description: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(40)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool {
        (lhs.high, lhs.middle, lhs.low) < (rhs.high, rhs.middle, rhs.low)
    }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// A path inside a repository, kept as the raw bytes git stores so non-UTF-8 names survive.
public struct GitPath: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The path exactly as stored in the tree or index, `/`-separated.
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public init(_ string: String) { self.bytes = Array(string.utf8) }

    public init(stringLiteral value: String) { self.init(value) }

    /// The path for display: invalid UTF-8 sequences become U+FFFD.
    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether the bytes are valid UTF-8, i.e. whether `description` is exact.
    public var isValidUTF8: Bool {
        var decoder = Unicode.UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// Byte order, as git sorts paths.
    public static func < (lhs: GitPath, rhs: GitPath) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    /// `prefix/self`, used when recursing into submodules.
    func prefixed(by prefix: GitPath) -> GitPath {
        GitPath(bytes: prefix.bytes + [UInt8(ascii: "/")] + bytes)
    }
}

/// Who wrote a commit and why: the provenance every finding from that commit carries.
public struct CommitMetadata: Hashable, Sendable {
    public let id: ObjectID
    public let authorName: String
    public let authorEmail: String
    /// Author date in RFC 3339 UTC, e.g. `2026-11-22T15:02:55Z` (gitleaks' `Date`).
    public let authorDate: String
    /// Author time as seconds since 1970.
    public let authorTime: Int64
    /// Full commit message, trailing newline included as stored.
    public let message: String
    /// The commit sits at a shallow clone's boundary: its parents are missing, so everything in its
    /// tree looks new although most of it was introduced by history that was not fetched.
    public let isShallowBoundary: Bool
    /// Position in the history walk, parents before children (0 when not from a walk): orders
    /// commits made within the same second, where dates tie.
    public internal(set) var walkOrder: Int = 0

    public init(id: ObjectID, authorName: String, authorEmail: String, authorTime: Int64, message: String,
                isShallowBoundary: Bool) {
        self.id = id
        self.authorName = authorName
        self.authorEmail = authorEmail
        self.authorTime = authorTime
        self.authorDate = RFC3339.utcString(secondsSince1970: authorTime)
        self.message = message
        self.isShallowBoundary = isShallowBoundary
    }
}

/// Formats timestamps without Foundation's formatters (not free to share across threads, and slow).
enum RFC3339 {
    /// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time, proleptic Gregorian calendar.
    static func utcString(secondsSince1970 seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let yearText = String(year).count >= 4 ? String(year) : String(repeating: "0", count: 4 - String(year).count) + String(year)
        return "\(yearText)-\(two(month))-\(two(day))T\(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))Z"
    }
}

/// Content sniffing shared by blob mode and diff mode.
enum ContentKind {
    static let lfsPointerPrefix = Array("version https://git-lfs.github.com/spec/v1".utf8)

    /// Git's own heuristic: a NUL byte in the first 8000 bytes means binary.
    static func isBinary(_ bytes: [UInt8]) -> Bool {
        RawBytes.containsNUL(bytes, limit: 8_000)
    }

    static func isBinary(_ bytes: UnsafeRawBufferPointer) -> Bool {
        RawBytes.containsNUL(bytes, limit: 8_000)
    }

    /// A Git LFS pointer file: the real content lives on an LFS server, not in the repository.
    static func isLFSPointer(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isLFSPointer($0) }
    }

    static func isLFSPointer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count < 1_024 && bytes.starts(with: lfsPointerPrefix)
    }
}

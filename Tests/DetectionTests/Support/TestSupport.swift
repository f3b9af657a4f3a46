import Foundation
import Testing
import Rules
@testable import Detection

// Shared helpers for the Detection suites: deterministic randomness, fake-secret generators,
// independent checksum implementations, detector construction from inline TOML, temp dirs.

// MARK: - Randomness

/// SplitMix64: a tiny deterministic generator, so generated corpora are reproducible from a seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Character sets fake secrets are drawn from.
enum Alphabet {
    static let base62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    static let upperDigits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    static let lowerDigits = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)
    static let lower = Array("abcdefghijklmnopqrstuvwxyz".utf8)
    static let hexLower = Array("0123456789abcdef".utf8)
    static let base64 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
}

func randomString<G: RandomNumberGenerator>(_ alphabet: [UInt8], count: Int, using generator: inout G) -> String {
    let n = UInt64(alphabet.count)
    let out = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        alphabet.withUnsafeBufferPointer { letters in
            for i in 0..<count { buffer[i] = letters[Int(generator.next() % n)] }
        }
        initialized = count
    }
    return String(decoding: out, as: UTF8.self)
}

/// A fresh random string from the system generator (fake secrets are generated at test time).
func randomString(_ alphabet: [UInt8], count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return randomString(alphabet, count: count, using: &generator)
}

/// A random base62 string whose Shannon entropy is comfortably high (retries the rare dull draw).
func highEntropyBase62(_ count: Int) -> String {
    while true {
        let s = randomString(Alphabet.base62, count: count)
        if Entropy.shannon(s) > 3.5 || count < 16 { return s }
    }
}

// MARK: - Independent reference implementations

/// CRC-32 (IEEE/zlib), written independently of the engine's `CRC32`.
enum ReferenceCRC32 {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        return c
    }

    static func crc(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = ~0
        for b in bytes { c = (c >> 8) ^ table[Int(UInt8(truncatingIfNeeded: c) ^ b)] }
        return ~c
    }
}

/// GitHub-style checksummed tokens: `prefix` + 30 random base62 + base62(CRC32(random)) padded to 6.
enum GitHubToken {
    static func base62(_ value: UInt32, width: Int) -> String {
        var digits = [UInt8]()
        var v = value
        while v > 0 {
            digits.insert(Alphabet.base62[Int(v % 62)], at: 0)
            v /= 62
        }
        while digits.count < width { digits.insert(UInt8(ascii: "0"), at: 0) }
        return String(decoding: digits, as: UTF8.self)
    }

    static func checksum(of payload: String) -> String { base62(ReferenceCRC32.crc(Array(payload.utf8)), width: 6) }

    static func valid(prefix: String = "ghp_") -> String {
        let body = highEntropyBase62(30)
        return prefix + body + checksum(of: body)
    }

    /// Same shape, with the last checksum character changed so the checksum no longer holds.
    static func invalid(prefix: String = "ghp_") -> String {
        let good = valid(prefix: prefix)
        let last = good.last ?? "0"
        return String(good.dropLast()) + (last == "A" ? "B" : "A")
    }

    static func isValid(_ token: String) -> Bool {
        guard let payload = token.split(separator: "_", omittingEmptySubsequences: false).last, payload.count > 6 else {
            return false
        }
        let body = String(payload.dropLast(6))
        return checksum(of: body) == String(payload.suffix(6))
    }
}

/// Fake PyPI tokens: `pypi-` + unpadded base64url of bytes that contain `pypi.org`.
enum PyPIToken {
    static func make(containing marker: String = "pypi.org") -> String {
        var bytes = [UInt8](repeating: 0, count: 40)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        bytes.insert(contentsOf: Array("\u{2}\u{8}\(marker)".utf8), at: 3)
        let b64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "pypi-" + b64
    }
}

/// Shannon entropy (bits per byte), written independently of `Entropy`.
func referenceEntropy(_ bytes: some Collection<UInt8>) -> Double {
    var counts = [UInt8: Int]()
    for b in bytes { counts[b, default: 0] += 1 }
    let n = Double(bytes.count)
    return counts.values.reduce(0.0) { h, c in
        let p = Double(c) / n
        return h - p * log2(p)
    }
}

// MARK: - Detectors from inline TOML

func ruleSet(_ toml: String) throws -> RuleSet { try ConfigLoader.parse(toml, source: "inline.toml") }

func makeDetector(_ toml: String, options: DetectorOptions = DetectorOptions(), cache: DatabaseCache? = nil) throws -> Detector {
    try Detector(ruleSet: ruleSet(toml), options: options, cache: cache)
}

/// Scans `text` with a fresh detector built from `toml`.
func scan(_ toml: String, _ text: String, path: String = "", options: DetectorOptions = DetectorOptions()) throws -> [Finding] {
    try makeDetector(toml, options: options).makeScanner().scan(text, path: path)
}

extension Detection.Scanner {
    /// Scans raw bytes (which need not be UTF-8) with full control over provenance and chunking.
    func scan(bytes: [UInt8], provenance: Provenance = Provenance(file: "test.txt"), firstLine: Int = 1,
              owned: Range<Int>? = nil) -> [Finding] {
        bytes.withUnsafeBytes { scan($0, provenance: provenance, firstLine: firstLine, owned: owned) }
    }
}

/// A single-rule TOML document.
func singleRule(id: String = "test-rule", regex: String, extra: String = "") -> String {
    """
    [[rules]]
    id = "\(id)"
    description = "test rule \(id)"
    regex = '''\(regex)'''
    \(extra)
    """
}

// MARK: - Positions

/// A finding reduced to what the equivalence and position tests compare.
struct Hit: Hashable, Comparable, CustomStringConvertible {
    var rule: String
    var startLine: Int
    var startColumn: Int
    var endLine: Int
    var endColumn: Int
    var match: String
    var secret: String

    init(rule: String, startLine: Int, startColumn: Int, endLine: Int, endColumn: Int, match: String, secret: String) {
        self.rule = rule
        self.startLine = startLine
        self.startColumn = startColumn
        self.endLine = endLine
        self.endColumn = endColumn
        self.match = match
        self.secret = secret
    }

    init(_ f: Finding) {
        self.init(rule: f.ruleID, startLine: f.startLine, startColumn: f.startColumn, endLine: f.endLine,
                  endColumn: f.endColumn, match: f.match, secret: f.secret)
    }

    static func < (a: Hit, b: Hit) -> Bool {
        (a.startLine, a.startColumn, a.rule, a.endLine, a.endColumn, a.secret)
            < (b.startLine, b.startColumn, b.rule, b.endLine, b.endColumn, b.secret)
    }

    var description: String {
        let short = secret.count > 40 ? String(secret.prefix(37)) + "..." : secret
        return "\(rule)@\(startLine):\(startColumn)-\(endLine):\(endColumn) \(short)"
    }
}

/// 1-based line and column of byte `offset`, computed independently of `LineIndex`.
func referencePosition(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
    var line = 1
    var lineStart = 0
    var i = 0
    while i < offset {
        if bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        i += 1
    }
    return (line, offset - lineStart + 1)
}

/// Whether `needle` occurs in `haystack` (byte search with memmem, independent of the engine).
func bytesContain(_ haystack: [UInt8], _ needle: String) -> Bool {
    let n = Array(needle.utf8)
    guard !n.isEmpty else { return true }
    guard haystack.count >= n.count else { return false }
    return haystack.withUnsafeBufferPointer { h in
        n.withUnsafeBufferPointer { p in
            let first = p[0]
            var i = 0
            while i <= h.count - p.count {
                if h[i] == first {
                    var j = 1
                    while j < p.count && h[i + j] == p[j] { j += 1 }
                    if j == p.count { return true }
                }
                i += 1
            }
            return false
        }
    }
}

/// Precomputed newline offsets for fast independent position lookups on large corpora.
struct ReferenceLines {
    let newlines: [Int]
    init(_ bytes: [UInt8]) { newlines = bytes.indices.filter { bytes[$0] == 0x0A } }
    func position(of offset: Int) -> (line: Int, column: Int) {
        // Linear-ish but simple: count newlines before offset with a binary search written out plainly.
        var lo = 0, hi = newlines.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if newlines[mid] < offset { lo = mid + 1 } else { hi = mid }
        }
        let start = lo == 0 ? 0 : newlines[lo - 1] + 1
        return (lo + 1, offset - start + 1)
    }
}

// MARK: - Temporary directories

/// A fresh directory under the system temp dir, removed when the closure returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "sealant-dtests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Encodings used by the decoding tests.
enum Encode {
    static func base64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
    static func hex(_ s: String) -> String { s.utf8.map { String(format: "%02x", $0) }.joined() }
    static func percentAll(_ s: String) -> String { s.utf8.map { String(format: "%%%02X", $0) }.joined() }
    static func unicodeEscaped(_ s: String) -> String { s.utf8.map { String(format: "\\u%04x", $0) }.joined() }
}

extension Finding {
    /// `[startLine, startColumn, endLine, endColumn]`, for compact position assertions.
    var span: [Int] { [startLine, startColumn, endLine, endColumn] }
}

/// `SegmentDecoder.segments` fed with the decoding triggers a Vectorscan scan of `bytes` reports,
/// as the scanner does.
func segments(in bytes: UnsafeRawBufferPointer, budget: inout Int) throws -> [EncodedSegment] {
    let triggers = SegmentDecoder.Trigger.allCases
    let database = try triggerDatabase.get()
    let collector = CandidateCollector(ruleCount: 0, keywordCount: 0, triggerCount: triggers.count)
    database.scan(bytes, scratch: try VectorscanScratch(for: database), collector: collector)
    return SegmentDecoder.segments(in: bytes, triggers: collector.triggerEnds, budget: &budget)
}

/// The decoding-trigger patterns alone, compiled once.
let triggerDatabase = Result {
    try VectorscanDatabase.compile(SegmentDecoder.Trigger.allCases.map {
        VectorscanPattern(expression: $0.expression, id: UInt32($0.rawValue), flags: 0)
    })
}

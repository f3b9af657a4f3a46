import Foundation
import Testing
import Rules
@testable import Detection

/// Ignore files, baselines, first-introduction dedup and Sealed Secrets ciphertext.
@Suite("Suppression and dedup")
struct SuppressionTests {
    static let rule = singleRule(id: "tk", regex: #"tk_[A-Za-z0-9]{20}"#)

    static func finding(_ text: String, file: String = "cfg/app.env", commit: String = "", date: String = "") throws -> Finding {
        let scanner = try makeDetector(Self.rule).makeScanner()
        let found = scanner.scan(bytes: Array(text.utf8), provenance: Provenance(file: file, commit: commit, date: date))
        return try #require(found.first)
    }

    // MARK: IgnoreList

    @Test("an ignore list accepts content fingerprints and both gitleaks position forms")
    func ignoreForms() throws {
        let secret = "tk_" + highEntropyBase62(20)
        let commit = randomString(Alphabet.hexLower, count: 40)
        let f = try Self.finding("\n\nkey = \(secret)", commit: commit)
        #expect(IgnoreList(entries: [f.fingerprint]).ignores(f))
        #expect(IgnoreList(entries: ["\(commit):cfg/app.env:tk:3"]).ignores(f))
        #expect(IgnoreList(entries: ["cfg/app.env:tk:3"]).ignores(f), "3-part form matches every commit")
        #expect(!IgnoreList(entries: ["cfg/app.env:tk:4"]).ignores(f))
        #expect(!IgnoreList(entries: ["\(randomString(Alphabet.hexLower, count: 40)):cfg/app.env:tk:3"]).ignores(f))
        #expect(!IgnoreList(entries: ["cfg/app.env:tk:" + Fingerprint.secretHash("other")]).ignores(f))
        #expect(!IgnoreList(entries: ["cfg/app.env:other-rule:3"]).ignores(f))
    }

    @Test("a content fingerprint keeps ignoring a moved line but not a new secret on the same line")
    func ignoreByContent() throws {
        let secret = "tk_" + highEntropyBase62(20)
        let list = IgnoreList(entries: [try Self.finding("key = \(secret)").fingerprint])
        #expect(list.ignores(try Self.finding("# added\n\nkey = \(secret)")))
        #expect(!list.ignores(try Self.finding("key = tk_\(highEntropyBase62(20))")))
    }

    @Test("ignore files: comments, blank lines, CRLF, surrounding spaces, backslash paths; missing file is empty")
    func ignoreFile() throws {
        try withTemporaryDirectory { dir in
            let secret = "tk_" + highEntropyBase62(20)
            let f = try Self.finding("key = \(secret)", file: "cfg/app.env")
            let text = "# comment\r\n\r\n   cfg\\app.env:tk:\(Fingerprint.secretHash(secret))   \r\n#cfg/app.env:tk:1\r\n"
            let path = dir + "/.gitleaksignore"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let list = try IgnoreList(contentsOf: path)
            #expect(list.entries == ["cfg/app.env:tk:\(Fingerprint.secretHash(secret))"])
            #expect(list.ignores(f))
            #expect(try IgnoreList(contentsOf: dir + "/missing").isEmpty)
            var merged = IgnoreList(entries: ["a:b:1"])
            merged.merge(list)
            #expect(merged.entries.count == 2)
        }
    }

    // MARK: Baseline

    @Test("a baseline suppresses the same secret even after the line moved, not a new secret")
    func baselineByContent() throws {
        let secret = "tk_" + highEntropyBase62(20)
        let baseline = Baseline(findings: [try Self.finding("key = \(secret)")])
        #expect(baseline.count == 1)
        #expect(baseline.contains(try Self.finding("\n\n\nkey = \(secret)")))
        #expect(!baseline.contains(try Self.finding("key = tk_\(highEntropyBase62(20))")))
        #expect(!baseline.contains(try Self.finding("key = \(secret)", file: "other.env")))
    }

    @Test("redacted baseline entries fall back to their content fingerprint, then to the position")
    func baselineRedacted() throws {
        let secret = "tk_" + highEntropyBase62(20)
        var redacted = try Self.finding("key = \(secret)")
        redacted.secret = "REDACTED"
        redacted.match = "REDACTED"
        #expect(Baseline(findings: [redacted]).contains(try Self.finding("\n\nkey = \(secret)")))

        // A gitleaks report: position fingerprint, partially redacted secret.
        var gitleaks = try Self.finding("x\nkey = \(secret)")
        gitleaks.secret = String(secret.prefix(5)) + "..."
        gitleaks.fingerprint = gitleaks.gitleaksFingerprint
        let baseline = Baseline(findings: [gitleaks])
        #expect(baseline.contains(try Self.finding("y\nkey = \(secret)")))
        #expect(!baseline.contains(try Self.finding("key = \(secret)")), "position-only entries do not follow a moved line")
    }

    // MARK: Dedup

    @Test("dedup keeps the earliest introduction per fingerprint and lists the other occurrences")
    func firstIntroduction() throws {
        let secret = "tk_" + highEntropyBase62(20)
        let c1 = randomString(Alphabet.hexLower, count: 40), c2 = randomString(Alphabet.hexLower, count: 40)
        let c3 = randomString(Alphabet.hexLower, count: 40)
        let late = try Self.finding("key = \(secret)", commit: c1, date: "2024-05-01T00:00:00Z")
        let early = try Self.finding("\nkey = \(secret)", commit: c2, date: "2023-01-01T00:00:00Z")
        let middle = try Self.finding("\n\nkey = \(secret)", commit: c3, date: "2023-06-01T00:00:00Z")
        let other = try Self.finding("key = tk_\(highEntropyBase62(20))", commit: c1, date: "2024-05-01T00:00:00Z")

        let folded = FindingDeduplication.keepingFirstIntroduction([late, other, early, middle, early], listOthers: true)
        #expect(folded.count == 2)
        #expect(folded.first?.commit == c2, "earliest date wins; order of first appearance kept")
        #expect(folded.first?.otherOccurrences.map(\.commit) == [c3, c1], "later ones listed once each, by date")
        #expect(folded.last?.secret == other.secret)
        let quiet = FindingDeduplication.keepingFirstIntroduction([late, early], listOthers: false)
        #expect(quiet.count == 1 && quiet.first?.otherOccurrences.isEmpty == true)
    }

    // MARK: Sealed Secrets ciphertext

    static func sealedShaped(blockSize: Int, extra: Int = 40) -> [UInt8] {
        var bytes = [UInt8(blockSize >> 8), UInt8(blockSize & 0xFF)]
        bytes += (0..<(blockSize + 16 + extra)).map { _ in UInt8.random(in: 0...255) }
        return bytes
    }

    @Test("SealedBlob recognises the u16 length + RSA block + GCM layout", arguments: [256, 384, 512])
    func sealedShape(blockSize: Int) {
        let bytes = Self.sealedShaped(blockSize: blockSize)
        #expect(SealedBlob.isSealed(bytes: bytes))
        #expect(SealedBlob.isSealed(base64: Data(bytes).base64EncodedString()))
        #expect(SealedBlob.isSealed(base64: "\"" + Data(bytes).base64EncodedString() + "\"\n"))
        #expect(!SealedBlob.isSealed(bytes: Array(bytes.prefix(2 + blockSize + 15))), "GCM tag missing")
        var wrong = bytes
        wrong[1] ^= 0x01
        #expect(!SealedBlob.isSealed(bytes: wrong))
        #expect(!SealedBlob.isSealed(base64: String(Data(bytes).base64EncodedString().dropLast(1))))
    }

    @Test("a base64 value shaped like Sealed Secrets ciphertext is never reported; other long base64 is")
    func sealedNotReported() throws {
        let toml = singleRule(id: "long-b64", regex: #"secret:\s*([A-Za-z0-9+/]{300,}={0,2})"#)
        let sealed = Data(Self.sealedShaped(blockSize: 256)).base64EncodedString()
        var randomBytes = Self.sealedShaped(blockSize: 256)
        randomBytes[0] = 0xFF
        let random = Data(randomBytes).base64EncodedString()
        #expect(try scan(toml, "secret: \(sealed)", options: DetectorOptions(maxDecodeDepth: 0)).isEmpty)
        #expect(try scan(toml, "secret: \(random)", options: DetectorOptions(maxDecodeDepth: 0)).count == 1)
    }
}

import Foundation
import Testing
import Rules
@testable import Detection

/// Content-based fingerprints and the gitleaks position-based form.
@Suite("Fingerprints")
struct FingerprintTests {
    static let rule = singleRule(id: "tk", regex: #"tk_[A-Za-z0-9]{20}"#)

    @Test("secretHash is the first 16 hex digits of SHA-256", arguments: [
        ("abc", "ba7816bf8f01cfea"),
        ("", "e3b0c44298fc1c14"),
        ("The quick brown fox jumps over the lazy dog", "d7a8fbb307d78094"),
    ])
    func secretHash(input: String, expected: String) {
        #expect(Fingerprint.secretHash(input) == expected)
    }

    @Test("content fingerprint is file:rule:hash(secret)")
    func contentForm() {
        #expect(Fingerprint.content(file: "a/b.txt", ruleID: "r", secret: "abc") == "a/b.txt:r:ba7816bf8f01cfea")
    }

    @Test("stable when the line moves, different for a different secret or file")
    func stability() throws {
        let secret = "tk_" + highEntropyBase62(20)
        let scanner = try makeDetector(Self.rule).makeScanner()
        let before = try #require(scanner.scan("key = \(secret)", path: "cfg/app.ini").first)
        let moved = try #require(scanner.scan("# new header\n\n\n  other = 1\nkey=\(secret)  # moved", path: "cfg/app.ini").first)
        #expect(before.startLine != moved.startLine)
        #expect(before.fingerprint == moved.fingerprint)
        #expect(before.fingerprint == "cfg/app.ini:tk:" + Fingerprint.secretHash(secret))
        #expect(!before.fingerprint.contains(secret))

        let other = try #require(scanner.scan("key = tk_\(highEntropyBase62(20))", path: "cfg/app.ini").first)
        #expect(other.fingerprint != before.fingerprint)
        let elsewhere = try #require(scanner.scan("key = \(secret)", path: "cfg/other.ini").first)
        #expect(elsewhere.fingerprint != before.fingerprint)
        // Position-based gitleaks fingerprints change when the line moves.
        #expect(before.gitleaksFingerprint != moved.gitleaksFingerprint)
    }

    @Test("gitleaksFingerprint: file:rule:line without a commit, commit:file:rule:line with one")
    func gitleaksForm() throws {
        let scanner = try makeDetector(Self.rule).makeScanner()
        let bytes = Array("\n\nkey = tk_\(highEntropyBase62(20))".utf8)
        let plain = try #require(scanner.scan(bytes: bytes, provenance: Provenance(file: "dir/a.py")).first)
        #expect(plain.gitleaksFingerprint == "dir/a.py:tk:3")
        let commit = randomString(Alphabet.hexLower, count: 40)
        let git = try #require(scanner.scan(bytes: bytes, provenance: Provenance(file: "dir/a.py", commit: commit)).first)
        #expect(git.gitleaksFingerprint == "\(commit):dir/a.py:tk:3")
        #expect(git.commit == commit && git.file == "dir/a.py")
        // The content fingerprint does not depend on the commit.
        #expect(git.fingerprint == plain.fingerprint)
    }
}

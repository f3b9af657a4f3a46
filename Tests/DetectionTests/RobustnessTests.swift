import Foundation
import Testing
import Rules
@testable import Detection

/// Hostile and degenerate input: empty, huge, invalid UTF-8, NUL bytes, catastrophic backtracking.
@Suite("Robustness")
struct RobustnessTests {
    static let rule = singleRule(id: "tk", regex: #"\b(tk_[A-Za-z0-9]{20})\b"#, extra: #"keywords = ["tk_"]"#)

    @Test("empty input gives no findings (and a detector with no rules scans anything)")
    func empty() throws {
        let scanner = try makeDetector(Self.rule).makeScanner()
        #expect(scanner.scan("").isEmpty)
        #expect(scanner.scan(bytes: []).isEmpty)
        let none = try Detector(ruleSet: RuleSet(rules: [])).makeScanner()
        #expect(none.scan("tk_\(highEntropyBase62(20))").isEmpty)
    }

    @Test("a 10 MB single line completes and finds the tokens in it")
    func hugeLine() throws {
        var g = SeededGenerator(seed: 10)
        var bytes = [UInt8]()
        bytes.reserveCapacity(10 << 20 + 1000)
        var planted = [String]()
        while bytes.count < 10 << 20 {
            bytes += Array(randomString(Alphabet.base62 + Array("+/ ".utf8), count: 1 << 20, using: &g).utf8)
            let t = "tk_" + randomString(Alphabet.base62, count: 20, using: &g)
            planted.append(t)
            bytes += Array(" \(t) ".utf8)
        }
        let found = try makeDetector(Self.rule).makeScanner().scan(bytes: bytes)
        #expect(Set(found.map(\.secret)).isSuperset(of: planted))
        #expect(found.allSatisfy { $0.startLine == 1 })
    }

    @Test("invalid UTF-8 and NUL bytes around a token do not hide it", arguments: [
        [UInt8]([0xFF, 0xFE, 0x20]), [0x00, 0x00, 0x0A], [0xC3, 0x28, 0x09], [0xE2, 0x82], [0x80, 0x00],
    ])
    func binaryNoise(noise: [UInt8]) throws {
        let token = "tk_" + highEntropyBase62(20)
        let bytes = noise + noise + [0x20] + Array(token.utf8) + [0x00] + noise
        let found = try makeDetector(Self.rule).makeScanner().scan(bytes: bytes)
        #expect(found.map(\.secret) == [token])
        // Columns count bytes, not characters.
        let offset = noise.count * 2 + 1
        let expected = referencePosition(of: offset, in: bytes)
        #expect(found.first.map { [$0.startLine, $0.startColumn] } == [expected.line, expected.column])
    }

    @Test("a file of NUL bytes with a token in the middle")
    func nulFile() throws {
        let token = "tk_" + highEntropyBase62(20)
        let bytes = [UInt8](repeating: 0, count: 100_000) + Array(token.utf8) + [UInt8](repeating: 0, count: 100_000)
        let found = try makeDetector(Self.rule).makeScanner().scan(bytes: bytes)
        #expect(found.map(\.secret) == [token])
        #expect(found.first?.startColumn == 100_001)
    }

    @Test("catastrophic backtracking hits PCRE2's limits instead of hanging", .timeLimit(.minutes(1)), arguments: [
        #"(x+x+)+y"#,                // Vectorscan-confirmed: a real match exists at the end of each line
        #"(?|(x+x+)+y|zz\K)"#,       // PCRE2-only (branch reset + \K): runs over the whole input
    ])
    func catastrophicBacktracking(regex: String) throws {
        let detector = try makeDetector(singleRule(id: "evil", regex: regex), options: DetectorOptions(maxDecodeDepth: 0))
        let line = String(repeating: "x", count: 5_000) + "z " + String(repeating: "x", count: 40) + "z xxy\n"
        // Completing at all is the assertion (the time limit guards against a hang).
        let found = detector.makeScanner().scan(String(repeating: line, count: 3))
        #expect(found.allSatisfy { $0.ruleID == "evil" })
    }

    @Test("a backtracking blow-up on one line does not hide a token on a later line", .timeLimit(.minutes(1)))
    func limitHitDoesNotHideLaterLines() throws {
        let toml = singleRule(id: "evil-or-token", regex: #"(?:(x+x+)+y|(tk_[A-Za-z0-9]{20}))"#)
        let detector = try makeDetector(toml, options: DetectorOptions(maxDecodeDepth: 0))
        let token = "tk_" + highEntropyBase62(20)
        let text = String(repeating: "x", count: 3_000) + "z\nsafe line\nkey = \(token)\n"
        #expect(detector.makeScanner().scan(text).map(\.secret) == [token])
    }

    @Test("a deferred pattern compiles on first use; the JIT waits for repeated use")
    func lazyPCRE2() throws {
        let regex = PCRE2Regex(deferred: "key_([a-z]+)")
        #expect(!regex.isCompiled)
        let matcher = PCRE2Matcher()
        let subject = Array("x key_abc y".utf8)
        for use in 1 ... PCRE2Regex.jitAfterUses {
            let found = subject.withUnsafeBytes { matcher.matches(regex, in: $0, searchRange: 0 ..< $0.count) }
            #expect(found.map(\.groups) == [[6 ..< 9]])
            #expect(regex.isCompiled)
            #expect(regex.isJITCompiled == (use >= PCRE2Regex.jitAfterUses))
        }
        // A deferred pattern that does not compile after all matches nothing (and does not crash).
        let broken = PCRE2Regex(deferred: "key_(")
        #expect(subject.withUnsafeBytes { matcher.matches(broken, in: $0, searchRange: 0 ..< $0.count) }.isEmpty)
        #expect(!matcher.isMatch(broken, "key_("))
        #expect(throws: PCRE2CompileError.self) { try PCRE2Regex("key_(") }
    }

    @Test("keywords become Vectorscan literals byte by byte")
    func keywordLiterals() {
        #expect(Detector.literal("api_Key9") == "api\\x5fKey9")
        #expect(Detector.literal("a.b-c") == "a\\x2eb\\x2dc")
        #expect(Detector.literal("ñ") == "\\xc3\\xb1")
        #expect(Detector.literal("") == "")
    }

    @Test("the PCRE2 matcher reports a limit hit as no match")
    func matcherLimits() throws {
        let regex = try PCRE2Regex(#"^(a|aa)+$"#)
        let matcher = PCRE2Matcher(matchLimit: 10_000)
        let subject = Array((String(repeating: "a", count: 60) + "b").utf8)
        let matches = subject.withUnsafeBytes { matcher.matches(regex, in: $0, searchRange: 0..<subject.count) }
        #expect(matches.isEmpty)
        let ok = Array(String(repeating: "a", count: 30).utf8)
        #expect(ok.withUnsafeBytes { matcher.matches(regex, in: $0, searchRange: 0..<ok.count) }.count == 1)
    }

    @Test("one scanner reused across units of different sizes carries nothing over (keywords, decode triggers)")
    func scannerReuse() throws {
        let toml = singleRule(id: "tk", regex: #"\b(tk_[A-Za-z0-9]{20})\b"#, extra: #"keywords = ["tk_"]"#)
        let scanner = try makeDetector(toml).makeScanner()
        let secret = "tk_" + highEntropyBase62(20)
        let big = String(repeating: "filler text ", count: 2_000) + "v = " + Encode.base64("key=\(secret)") + "\n"
        for _ in 0..<3 {
            #expect(scanner.scan(big).map(\.secret) == [secret])
            #expect(scanner.scan("short").isEmpty)
            #expect(scanner.scan("").isEmpty)
            #expect(scanner.scan("x = \(secret)").map(\.secret) == [secret])
        }
    }

    @Test("scanners of one detector can run concurrently")
    func concurrentScanners() async throws {
        let detector = try makeDetector(Self.rule)
        let tokens = (0..<8).map { _ in "tk_" + highEntropyBase62(20) }
        let results = await withTaskGroup(of: [String].self) { group in
            for t in tokens {
                group.addTask {
                    let scanner = detector.makeScanner()
                    var all = [String]()
                    for _ in 0..<50 { all += scanner.scan("x = \(t)\n").map(\.secret) }
                    return all
                }
            }
            var out = [[String]]()
            for await r in group { out.append(r) }
            return out
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0.count == 50 && Set($0).count == 1 })
        #expect(Set(results.compactMap(\.first)) == Set(tokens))
    }
}

@Suite("Lazy class prefix taken off rule regexes")
struct LazyPrefixTests {
    @Test("split recognises (?i)[class]{0,N}? and nothing else")
    func split() throws {
        let (prefix, rest) = try #require(LazyPrefix.split(#"(?i)[\w.-]{0,30}?(?:secret|token)[ \t]*=[ \t]*(\S+)"#))
        #expect(rest == #"(?i)(?:secret|token)[ \t]*=[ \t]*(\S+)"#)
        #expect(prefix.limit == 30)
        #expect(prefix.accepts[Int(UInt8(ascii: "a"))] && prefix.accepts[Int(UInt8(ascii: "Z"))] && prefix.accepts[Int(UInt8(ascii: "_"))])
        #expect(prefix.accepts[Int(UInt8(ascii: "."))] && prefix.accepts[Int(UInt8(ascii: "-"))])
        #expect(!prefix.accepts[Int(UInt8(ascii: " "))] && !prefix.accepts[Int(UInt8(ascii: "="))] && !prefix.accepts[0xC3])
        for other in [#"[\w]{1,30}?x"#, #"[^a]{0,3}?x"#, #"[\w]{0,30}x"#, #"[[:alpha:]]{0,3}?x"#, #"(?i)[a]{0,3}?"#, "abc"] {
            #expect(LazyPrefix.split(other) == nil, "\(other)")
        }
    }

    @Test("matches with the prefix taken off equal the whole regex's, including leftmost starts and non-overlap")
    func sameMatches() throws {
        let whole = #"(?i)[\w.-]{0,6}?(?:key|token)=(\w+)"#
        let full = try PCRE2Regex(whole)
        let (prefix, rest) = try #require(LazyPrefix.split(whole))
        let split = try PCRE2Regex(rest, lazyPrefix: prefix)
        let matcher = PCRE2Matcher()
        let lines = ["my_api_key=abc", "a_very_long_name_key=v1 x.key=v2", "TOKEN=t key=k", "xkey=1key=2", "key=a", "..-_key=b", "é_key=c",
                     "abcdefghijkey=z", "k=1 ab.token=2"]
        for line in lines {
            let bytes = Array(line.utf8)
            for start in [0, 1, 3] where start < bytes.count {
                let a = bytes.withUnsafeBytes { matcher.matches(full, in: $0, searchRange: start..<$0.count) }
                let b = bytes.withUnsafeBytes { matcher.matches(split, in: $0, searchRange: start..<$0.count) }
                #expect(a.map(\.range) == b.map(\.range), "\(line) from \(start)")
                #expect(a.map(\.groups) == b.map(\.groups), "\(line) from \(start)")
            }
        }
    }
}

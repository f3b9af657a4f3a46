import Foundation
import Testing
import Rules
@testable import Detection

/// Regexes Vectorscan cannot take: prefilter mode, PCRE2-only fallback, and outright errors.
@Suite("Fallback")
struct FallbackTests {
    @Test("a regex Vectorscan rejects even in prefilter mode runs through PCRE2 alone", arguments: [
        #"secret_key=\K[a-z0-9]{20}"#,                 // \K
        #"(?|tok_([a-z0-9]{20})|key_([a-z0-9]{20}))"#,  // branch reset
        #"sep\R?tok_([a-z0-9]{20})"#,                   // \R
    ])
    func pcre2Only(regex: String) throws {
        let toml = singleRule(id: "fallback", regex: regex) + """

        [[rules]]
        id = "normal"
        regex = '''nrm_[a-z]{8}'''
        """
        let detector = try makeDetector(toml)
        #expect(detector.pcre2OnlyRules.map(\.id) == ["fallback"])
        #expect(detector.pcre2OnlyRules.first.map { !$0.reason.isEmpty } == true)
        let value = randomString(Alphabet.lowerDigits, count: 20)
        let text = "a\nsecret_key=\(value) tok_\(value)\nsep\ntok_\(value) nrm_\(randomString(Alphabet.lower, count: 8))\n"
        let found = detector.makeScanner().scan(text)
        let fallback = found.filter { $0.ruleID == "fallback" }
        #expect(!fallback.isEmpty)
        #expect(fallback.allSatisfy { $0.secret == value })
        #expect(found.contains { $0.ruleID == "normal" })
    }

    @Test("a regex Vectorscan accepts at first but refuses to compile falls back instead of failing the detector",
          arguments: [
              #"(tk_[a-z0-9]{20})?"#,                    // can match the empty string: rejected only by hs_compile
          ])
    func compileTimeRejection(regex: String) throws {
        let toml = singleRule(id: "late-reject", regex: regex) + """

        [[rules]]
        id = "normal"
        regex = '''nrm_[a-z]{8}'''
        keywords = ["nrm_"]
        """
        let detector = try makeDetector(toml)
        #expect(detector.pcre2OnlyRules.map(\.id) == ["late-reject"])
        #expect(detector.pcre2OnlyRules.first.map { !$0.reason.isEmpty } == true)
        let value = randomString(Alphabet.lowerDigits, count: 20)
        // More than 10,000 bytes of text before the token: empty matches must not use up the match limit.
        let padding = String(repeating: "x ", count: 6_000) + "\n"
        let found = detector.makeScanner().scan(padding + "x tk_\(value) y\nnrm_\(randomString(Alphabet.lower, count: 8))\nEND\n")
        #expect(found.contains { $0.ruleID == "late-reject" && $0.match.hasPrefix("tk_\(value)") })
        #expect(found.contains { $0.ruleID == "normal" })
    }

    @Test("a bounded repeat too large for Vectorscan runs there relaxed, with the exact regex confirming")
    func largeBoundedRepeat() throws {
        let toml = singleRule(id: "wide", regex: #"tk_[a-z0-9]{20}[\s\S]{0,50000}END"#)
        let detector = try makeDetector(toml)
        #expect(detector.pcre2OnlyRules.isEmpty)
        let value = randomString(Alphabet.lowerDigits, count: 20)
        let near = "x tk_\(value) y\n" + String(repeating: "z", count: 1_000) + "\nEND\n"
        #expect(detector.makeScanner().scan(near).contains { $0.ruleID == "wide" && $0.match.hasPrefix("tk_\(value)") })
        // Further than the exact regex allows: the relaxed candidate is rejected by PCRE2.
        let far = "x tk_\(value) y\n" + String(repeating: "z\n", count: 30_000) + "END\n"
        #expect(!detector.makeScanner().scan(far).contains { $0.ruleID == "wide" })
    }

    @Test("PCRE2-only rules still honour keywords and paths")
    func pcre2OnlyGates() throws {
        let toml = singleRule(id: "fallback", regex: #"secret_key=\K[a-z0-9]{20}"#, extra: """
        keywords = ["secret_key"]
        path = '''\\.cfg$'''
        """)
        let scanner = try makeDetector(toml).makeScanner()
        let value = randomString(Alphabet.lowerDigits, count: 20)
        #expect(scanner.scan("secret_key=\(value)", path: "a.cfg").map(\.secret) == [value])
        #expect(scanner.scan("secret_key=\(value)", path: "a.txt").isEmpty)
        #expect(try scan(toml.replacingOccurrences(of: #"keywords = ["secret_key"]"#, with: #"keywords = ["absent"]"#),
                         "secret_key=\(value)", path: "a.cfg").isEmpty)
    }

    @Test("look-around and back-references go through Vectorscan's prefilter mode and still match exactly",
          arguments: [
              (regex: #"\btok_([a-z0-9]{16})(?=;)"#, hit: "tok_%@;", miss: "tok_%@,"),
              (regex: #"(?<=key=)tok_([a-z0-9]{16})"#, hit: "key=tok_%@", miss: "kex=tok_%@"),
              (regex: #"(?<!test_)tok_([a-z0-9]{16})"#, hit: "a tok_%@", miss: "test_tok_%@"),
              (regex: #"(["'])tok_([a-z0-9]{16})\1"#, hit: "'tok_%@'", miss: "'tok_%@\""),
          ])
    func prefilter(regex: String, hit: String, miss: String) throws {
        let toml = singleRule(id: "pf", regex: regex)
        let detector = try makeDetector(toml)
        #expect(detector.pcre2OnlyRules.isEmpty)
        let value = randomString(Alphabet.lowerDigits, count: 16)
        let scanner = detector.makeScanner()
        let found = scanner.scan("x " + hit.replacingOccurrences(of: "%@", with: value) + " y")
        #expect(found.count == 1)
        #expect(found.first?.match.contains("tok_" + value) == true)
        #expect(scanner.scan("x " + miss.replacingOccurrences(of: "%@", with: value) + " y").isEmpty)
    }

    @Test("a regex PCRE2 rejects throws RuleCompileError naming the rule and field", arguments: [
        (toml: singleRule(id: "bad-regex", regex: "tk_(unclosed"), field: "regex"),
        (toml: singleRule(id: "bad-path", regex: "tk_ok", extra: "path = '''(['''"), field: "path"),
        (toml: singleRule(id: "bad-allow", regex: "tk_ok", extra: "[[rules.allowlists]]\nregexes = ['''[z-a]''']"), field: "allowlist regex"),
    ])
    func pcre2Rejects(toml: String, field: String) throws {
        let error = #expect(throws: RuleCompileError.self) { try makeDetector(toml) }
        #expect(error.map { toml.contains("id = \"\($0.ruleID)\"") } == true)
        #expect(error?.field == field)
        #expect(error?.description.contains("rule \(error?.ruleID ?? "?")") == true)
    }

    @Test("an invalid regex in a global allowlist is reported against the global allowlist")
    func badGlobalAllowlist() throws {
        let toml = singleRule(regex: "tk_ok") + "\n[[allowlists]]\nregexes = ['''(x''']\n"
        let error = #expect(throws: RuleCompileError.self) { try makeDetector(toml) }
        #expect(error?.ruleID == "global allowlist")
    }
}

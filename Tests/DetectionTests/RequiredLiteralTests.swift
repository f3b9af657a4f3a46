import Foundation
import Testing
import Rules
@testable import Detection

/// The required-literal reading of a regex, and the rules it moves from Vectorscan to a keyword gate.
@Suite("RequiredLiteral")
struct RequiredLiteralTests {
    @Test("longest literal every match contains", arguments: [
        (#"ghp_[A-Za-z0-9]{36}"#, 4),
        (#"(?i)(?:password|secret)\s*="#, 6),
        (#"(?:\A|\n)[\w.*-]{1,100}:(?:\d{2,5}|\*):[\w.*$-]{1,63}:"#, 1),
        (#"a?bc"#, 2),
        (#"(?:abc)+x"#, 3),
        (#"(?:abc)*x"#, 1),
        (#"x{2,3}yz"#, 2),
        (#"\x41\x42\x43"#, 3),
        (#"[abc\]]def"#, 3),
        (#"[]a]bcd[[:alpha:]]"#, 3),
        (#"a{3"#, 3),
        (#"(?<name>abcd)"#, 4),
        (#"(?P<n>ab)cd"#, 2),
        (#"(?=abcd)e"#, 1),
        (#"(?i:xoxb-)\d+"#, 5),
        (#"é"#, 2),
        (#"(?#note)abc"#, 3),
        (#"\bAKIA[A-Z2-7]{16}\b"#, 4),
        (#"(?:ab|abcdef)"#, 2),
    ])
    func longest(regex: String, expected: Int) {
        #expect(RequiredLiteral.longest(in: regex) == expected)
    }

    @Test("syntax it does not follow is unknown, never 'no literal'", arguments: [
        #"(?x) a b c"#, #"\Qabc\E"#, #"(a)\1"#, #"(abc"#, #"abc)"#, #"+abc"#, #"\k<n>"#,
    ])
    func unknown(regex: String) {
        #expect(RequiredLiteral.longest(in: regex) == nil)
    }

    @Test("a regex without a literal but with selective keywords is gated by them; findings are the same")
    func keywordGated() throws {
        let pgpassLike = #"(?:\A|\n)[\w.-]{1,40}:(?:\d{2,5}|\*):[\w.-]{1,40}:[\w.-]{1,40}:([^\s:]{8,64})(?:\r?\n|\z)"#
        let toml = singleRule(id: "gated", regex: pgpassLike, extra: #"keywords = [":5432:", ":*:"]"#) + """

        [[rules]]
        id = "short-keyword"
        regex = '''(?:\\A|\\n)[a-z]{2,9}=([0-9]{6,12})'''
        keywords = ["=1"]
        """
        let detector = try makeDetector(toml)
        #expect(detector.pcre2OnlyRules.isEmpty)
        guard case .keywordGated = detector.rules[0].stage else { Issue.record("stage \(detector.rules[0].stage)"); return }
        guard case .vectorscan = detector.rules[1].stage else { Issue.record("stage \(detector.rules[1].stage)"); return }
        let password = randomString(Alphabet.lowerDigits, count: 16)
        let found = detector.makeScanner().scan("x\ndb.example:5432:app:app:\(password)\nother\n")
        #expect(found.map(\.ruleID) == ["gated"])
        #expect(found.first?.secret == password)
        // No keyword, no finding (as through Vectorscan).
        #expect(detector.makeScanner().scan("x\ndb.example:5439:app:app:\(password)\n").isEmpty)
        // Inside base64: the keyword is found in the decoded layer, and so is the secret.
        let encoded = Data("db:5432:app:app:\(password)\n".utf8).base64EncodedString()
        #expect(detector.makeScanner().scan("value: \(encoded)\n").map(\.ruleID) == ["gated"])
    }

    @Test("the built-in .pgpass rule is keyword-gated, every other built-in rule with a regex stays in Vectorscan or says why not")
    func builtIns() throws {
        let detector = try Detector(ruleSet: try ConfigLoader.builtIn())
        let gated = detector.rules.filter { if case .keywordGated = $0.stage { return true } else { return false } }.map(\.rule.id)
        #expect(gated.contains("pgpass-password"))
        #expect(gated.count < 10)
    }
}

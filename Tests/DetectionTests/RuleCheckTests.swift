import Foundation
import Testing
import Rules
@testable import Detection

/// `RuleCheck`: examples, negative examples and sample secrets in every context.
@Suite("RuleCheck")
struct RuleCheckTests {
    /// A rule whose secret class stops at every delimiter the contexts use.
    static func goodRule(id: String = "good", secret: String, extraAllowlist: String = "") -> String {
        """
        [[rules]]
        id = "\(id)"
        regex = '''(?i)token[=:\\s"'>]+(tk_[A-Za-z0-9]{20})\\b'''
        secretGroup = 1
        keywords = ["token"]
        sampleSecrets = ["\(secret)"]
        examples = ['''TOKEN: \(secret)''']
        negativeExamples = ['''token = "tk_short"''']
        \(extraAllowlist)
        """
    }

    static func secret() -> String { "tk_" + highEntropyBase62(20) }

    @Test("a good rule yields no failures")
    func goodRulePasses() throws {
        let failures = try RuleCheck.run(ruleSet(Self.goodRule(secret: Self.secret())))
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("contexts render exactly the documented shapes")
    func contextShapes() {
        let rendered = RuleCheck.contexts.map { $0.render("K", "S") }
        #expect(rendered == [
            "K = S",
            "K = \"S\"",
            "K: 'S'",
            "K: S",
            "{\"K\": \"S\", \"other\": 1}",
            "{\"cells\": [\"K=S\\n\"]}",
            "<K>S</K>",
            "K=S",
            "https://example.com/callback?K=S&mode=1",
            "K = \"S\"\r\nnext = 1\r\n",
        ])
        #expect(RuleCheck.contexts.map { $0.render("k", "S") }[7] == "K=S")
        #expect(Set(RuleCheck.contexts.map(\.name)).count == RuleCheck.contexts.count)
    }

    @Test("a failing example, a matching negative example and a missing-samples rule are reported")
    func examples() throws {
        let secret = Self.secret()
        let toml = """
        [[rules]]
        id = "bad-examples"
        regex = '''tk_[A-Za-z0-9]{20}'''
        examples = ['''token = \(secret)''', '''token = tk_tooshort''']
        negativeExamples = ['''token = tk_placeholder0000000000''', '''nothing here''']
        [[rules]]
        id = "no-samples"
        regex = '''nope_[a-z]{4}'''
        """
        let failures = try RuleCheck.run(ruleSet(toml))
        let problems = failures.map(\.description)
        #expect(failures.filter { $0.ruleID == "bad-examples" }.count == 2, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("bad-examples: example #2 was not detected") })
        #expect(problems.contains { $0.hasPrefix("bad-examples: negative example #1 was detected") })
        #expect(failures.filter { $0.ruleID == "no-samples" }.map(\.problem) == ["has no examples or sampleSecrets"])
        #expect(try RuleCheck.run(ruleSet(toml), requireSamples: false).filter { $0.ruleID == "no-samples" }.isEmpty)
    }

    @Test("a sample secret whose class runs past '&' breaks only in the URL context")
    func brokenInOneContext() throws {
        let secret = Self.secret()
        let toml = """
        [[rules]]
        id = "greedy"
        regex = '''(?i)token[=:\\s"'>]+(tk_[A-Za-z0-9&=]{20,40})'''
        sampleSecrets = ["\(secret)"]
        """
        let failures = try RuleCheck.run(ruleSet(toml))
        #expect(failures.count == 1, "\(failures)")
        #expect(failures.first?.problem.contains("context 'URL query'") == true)
        #expect(failures.first?.problem.contains("&mode=1") == true)
    }

    @Test("every context is exercised: a rule suppressed in just that context fails just there",
          arguments: 0..<RuleCheck.contexts.count)
    func eachContext(index: Int) throws {
        let context = RuleCheck.contexts[index]
        let secret = Self.secret()
        // Suppress the finding only when the whole line equals this context's (first) rendered line.
        let rendered = Array(context.render("token", secret).utf8)
        let firstLine = String(decoding: rendered.split(separator: 0x0A, omittingEmptySubsequences: false)[0], as: UTF8.self)
        let escaped = firstLine.unicodeScalars.map { s -> String in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(Character(s))) ? String(s) : String(format: "\\x%02x", s.value)
        }.joined()
        let toml = Self.goodRule(secret: secret, extraAllowlist: """
        [[rules.allowlists]]
        regexTarget = "line"
        regexes = ['''\\A\(escaped)\\z''']
        """)
        let failures = try RuleCheck.run(ruleSet(toml))
        #expect(failures.count == 1, "\(failures)")
        #expect(failures.first?.problem.contains("context '\(context.name)' gave nothing") == true)
    }

    @Test("keyword gating applies inside the check: a sample key without the keyword fails every context")
    func sampleKeyWithoutKeyword() throws {
        let secret = Self.secret()
        let toml = """
        [[rules]]
        id = "gated"
        regex = '''(tk_[A-Za-z0-9]{20})\\b'''
        keywords = ["github"]
        sampleKey = "api_token"
        sampleSecrets = ["\(secret)"]
        """
        let failures = try RuleCheck.run(ruleSet(toml))
        #expect(failures.count == RuleCheck.contexts.count)
        let fixed = try RuleCheck.run(ruleSet(toml.replacingOccurrences(of: "api_token", with: "github_token")))
        #expect(fixed.isEmpty, "\(fixed)")
    }

    @Test("global allowlists take part in the check")
    func globalAllowlistInCheck() throws {
        let secret = Self.secret()
        let toml = Self.goodRule(secret: secret) + """

        [[allowlists]]
        regexTarget = "line"
        regexes = ['''callback''']
        """
        let failures = try RuleCheck.run(ruleSet(toml))
        #expect(failures.map(\.problem).count == 1)
        #expect(failures.first?.problem.contains("URL query") == true)
    }

    @Test("a rule whose regex PCRE2 rejects makes the check throw, naming the rule")
    func uncompilable() throws {
        let error = #expect(throws: RuleCompileError.self) {
            try RuleCheck.run(ruleSet(singleRule(id: "broken", regex: "tk_(unclosed")))
        }
        #expect(error?.ruleID == "broken")
    }
}

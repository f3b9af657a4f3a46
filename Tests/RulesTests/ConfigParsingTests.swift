import Foundation
import Testing
@testable import Rules

/// Every field of the gitleaks schema (plus Sealant's sample keys) and the loader's errors.
@Suite("Config parsing")
struct ConfigParsingTests {
    @Test("every rule field parses")
    func allRuleFields() throws {
        let toml = #"""
        title = "my rules"

        [[rules]]
        id = "full"
        description = "A full rule"
        regex = '''\b(tk_[A-Za-z0-9]{20})\b'''
        secretGroup = 1
        entropy = 3.25
        keywords = ["TK_", "Token"]
        path = '''\.env$'''
        tags = ["token", "test"]
        skipReport = true
        checksum = "github"
        examples = ['''a = tk_x''', "b"]
        negativeExamples = ['''n''']
        sampleSecrets = ["s1", "s2"]
        sampleKey = "api_token"

          [[rules.allowlists]]
          description = "first"
          condition = "AND"
          regexTarget = "match"
          regexes = ['''^x''', '''y$''']
          paths = ['''^vendor/''']
          stopwords = ["EXAMPLE", "Dummy"]
          commits = ["abc123"]

          [[rules.allowlists]]
          regexTarget = "line"
          regexes = ['''#\s*ok''']
        """#
        let set = try ConfigLoader.parse(toml, source: "full.toml")
        #expect(set.title == "my rules")
        #expect(set.source == "full.toml")
        let r = try #require(set.rule(id: "full"))
        #expect(r.description == "A full rule")
        #expect(r.regex == #"\b(tk_[A-Za-z0-9]{20})\b"#)
        #expect(r.secretGroup == 1)
        #expect(r.entropy == 3.25)
        #expect(r.keywords == ["tk_", "token"])
        #expect(r.path == #"\.env$"#)
        #expect(r.tags == ["token", "test"])
        #expect(r.skipReport)
        #expect(r.checksum == "github")
        #expect(r.examples == ["a = tk_x", "b"])
        #expect(r.negativeExamples == ["n"])
        #expect(r.sampleSecrets == ["s1", "s2"])
        #expect(r.sampleKey == "api_token")
        #expect(r.allowlists.count == 2)
        #expect(r.allowlists[0] == Allowlist(description: "first", condition: .and, regexTarget: .match,
                                            regexes: ["^x", "y$"], paths: ["^vendor/"], stopwords: ["example", "dummy"],
                                            commits: ["abc123"]))
        #expect(r.allowlists[1].condition == .or)
        #expect(r.allowlists[1].regexTarget == .line)
        #expect(r.allowlists[1].regexes == [#"#\s*ok"#])
    }

    @Test("defaults for omitted fields")
    func defaults() throws {
        let r = try #require(ConfigLoader.parse(rule("min"), source: "x").rules.first)
        #expect(r.description == "")
        #expect(r.secretGroup == nil && r.entropy == nil && r.path == nil && r.checksum == nil && r.sampleKey == nil)
        #expect(r.keywords.isEmpty && r.tags.isEmpty && r.allowlists.isEmpty && r.examples.isEmpty)
        #expect(!r.skipReport)
    }

    @Test("entropy may be an integer or a float", arguments: [("3", 3.0), ("3.0", 3.0), ("4.5", 4.5), ("0", 0.0)])
    func entropyNumber(text: String, value: Double) throws {
        let set = try ConfigLoader.parse(rule("e", extra: "entropy = \(text)"), source: "x")
        #expect(set.rules.first?.entropy == value)
    }

    @Test("keywords are lower-cased when loaded and when built in code")
    func keywordsLowerCased() throws {
        let set = try ConfigLoader.parse(rule("k", extra: #"keywords = ["AKIA", "MiXeD_Case"]"#), source: "x")
        #expect(set.rules.first?.keywords == ["akia", "mixed_case"])
        #expect(Rule(id: "x", regex: "a", keywords: ["ABC"]).keywords == ["abc"])
        #expect(Allowlist(stopwords: ["ABC"]).stopwords == ["abc"])
    }

    @Test("allowlist condition and regexTarget spellings", arguments: [
        ("condition = \"and\"", Allowlist.Condition.and, Allowlist.RegexTarget.secret),
        ("condition = \"&&\"", .and, .secret),
        ("condition = \"or\"", .or, .secret),
        ("regexTarget = \"SECRET\"", .or, .secret),
        ("regexTarget = \"Match\"", .or, .match),
        ("regexTarget = \"line\"", .or, .line),
    ])
    func allowlistSpellings(line: String, condition: Allowlist.Condition, target: Allowlist.RegexTarget) throws {
        let set = try ConfigLoader.parse(rule("a", extra: "[[rules.allowlists]]\n\(line)\nregexes = ['''x''']"), source: "x")
        #expect(set.rules.first?.allowlists.first?.condition == condition)
        #expect(set.rules.first?.allowlists.first?.regexTarget == target)
    }

    @Test("invalid allowlist condition or regexTarget is an error naming the rule", arguments: [
        "condition = \"XOR\"", "regexTarget = \"path\"",
    ])
    func badAllowlistEnum(line: String) {
        let error = configError { try ConfigLoader.parse(rule("r1", extra: "[[rules.allowlists]]\n\(line)\nregexes = ['''x''']"), source: "c.toml") }
        #expect(error?.ruleID == "r1")
        #expect(error?.file == "c.toml")
    }

    @Test("an allowlist with no conditions is an error")
    func emptyAllowlist() {
        let error = configError { try ConfigLoader.parse(rule("r1", extra: "[[rules.allowlists]]\ndescription = \"nothing\""), source: "c.toml") }
        #expect(error?.ruleID == "r1")
        #expect(error?.description.contains("nothing") == true)
        #expect(configError { try ConfigLoader.parse("[[allowlists]]\ntargetRules = [\"x\"]\n", source: "c.toml") } != nil)
    }

    @Test("global [[allowlists]] with targetRules and every field")
    func globalAllowlists() throws {
        let toml = #"""
        [[allowlists]]
        description = "vendored"
        paths = ['''(^|/)vendor/''']
        [[allowlists]]
        description = "placeholders for two rules"
        targetRules = ["a", "b"]
        condition = "AND"
        regexTarget = "line"
        regexes = ['''example''']
        stopwords = ["xxx"]
        commits = ["c0ffee"]
        """# + rule("a") + rule("b")
        let set = try ConfigLoader.parse(toml, source: "x")
        #expect(set.allowlists.count == 2)
        #expect(set.allowlists[0].paths == [#"(^|/)vendor/"#])
        #expect(set.allowlists[0].targetRules.isEmpty)
        #expect(set.allowlists[1] == Allowlist(description: "placeholders for two rules", condition: .and, regexTarget: .line,
                                               regexes: ["example"], stopwords: ["xxx"], commits: ["c0ffee"], targetRules: ["a", "b"]))
    }

    @Test("old single-table forms [allowlist] and [rules.allowlist] still load")
    func oldForms() throws {
        let toml = #"""
        [allowlist]
        description = "old global"
        paths = ['''^old/''']

        [[rules]]
        id = "r"
        regex = '''tk_[a-z]{8}'''
          [rules.allowlist]
          stopwords = ["sample"]
        """#
        let set = try ConfigLoader.parse(toml, source: "x")
        #expect(set.allowlists.map(\.description) == ["old global"])
        #expect(set.rules.first?.allowlists.map(\.stopwords) == [["sample"]])
    }

    @Test("mixing old and new allowlist forms in one scope is an error")
    func mixingForms() {
        let global = #"""
        [allowlist]
        paths = ['''a''']
        [[allowlists]]
        paths = ['''b''']
        """#
        #expect(configError { try ConfigLoader.parse(global, source: "g.toml") }?.file == "g.toml")
        let perRule = #"""
        [[rules]]
        id = "mixed"
        regex = '''x'''
          [rules.allowlist]
          paths = ['''a''']
          [[rules.allowlists]]
          paths = ['''b''']
        """#
        let error = configError { try ConfigLoader.parse(perRule, source: "r.toml") }
        #expect(error?.ruleID == "mixed")
        // Old global form with new per-rule form is fine: different scopes.
        #expect(throws: Never.self) {
            try ConfigLoader.parse("[allowlist]\npaths = ['''a''']\n" + rule("r", extra: "[[rules.allowlists]]\npaths = ['''b''']"), source: "x")
        }
    }

    @Test("malformed TOML is a ConfigError naming the file and the line")
    func malformedTOML() {
        let toml = "title = \"ok\"\n\n[[rules]]\nid = \"broken\nregex = 'x'\n"
        let error = configError { try ConfigLoader.parse(toml, source: "/tmp/broken.toml") }
        #expect(error?.file == "/tmp/broken.toml")
        #expect(error?.description.hasPrefix("/tmp/broken.toml: ") == true)
        #expect(error?.reason.contains("line 4") == true, "\(error?.reason ?? "")")
    }

    @Test("wrong value types are ConfigErrors naming the field")
    func wrongTypes() {
        let error = configError { try ConfigLoader.parse("[[rules]]\nid = \"t\"\nregex = 'x'\nsecretGroup = \"one\"\n", source: "t.toml") }
        #expect(error?.reason.contains("secretGroup") == true, "\(error?.reason ?? "")")
        #expect(configError { try ConfigLoader.parse("[[rules]]\nid = \"t\"\nregex = 'x'\nkeywords = \"single\"\n", source: "t.toml") } != nil)
    }

    @Test("rule errors: missing id, no regex and no path, negative secretGroup, duplicate id")
    func ruleErrors() {
        #expect(configError { try ConfigLoader.parse("[[rules]]\nregex = 'x'\n", source: "a.toml") }?.reason.contains("#1") == true)
        #expect(configError { try ConfigLoader.parse("[[rules]]\nid = \"\"\nregex = 'x'\n", source: "a.toml") } != nil)
        #expect(configError { try ConfigLoader.parse("[[rules]]\nid = \"nothing\"\n", source: "a.toml") }?.ruleID == "nothing")
        #expect(configError { try ConfigLoader.parse(rule("neg", extra: "secretGroup = -1"), source: "a.toml") }?.ruleID == "neg")
        let dup = configError { try ConfigLoader.parse(rule("same") + rule("other") + rule("same"), source: "d.toml") }
        #expect(dup?.ruleID == "same")
        #expect(dup?.file == "d.toml")
        #expect(dup?.description == "d.toml: rule same: duplicate rule id")
    }

    @Test("a path-only rule and a path+regex rule are valid")
    func pathRules() throws {
        let set = try ConfigLoader.parse("[[rules]]\nid = \"p\"\npath = '''\\.p12$'''\n" + rule("pr", extra: "path = '''\\.env$'''"), source: "x")
        #expect(set.rules.map(\.id) == ["p", "pr"])
        #expect(set.rules[0].regex == nil && set.rules[0].path == #"\.p12$"#)
    }

    @Test("load(path:) reads a file, and reports unreadable or non-UTF-8 files")
    func loadFile() throws {
        try withTemporaryDirectory { dir in
            let path = try write(rule("from-file"), to: dir, "c.toml")
            let set = try ConfigLoader.load(path: path)
            #expect(set.rules.map(\.id) == ["from-file"])
            #expect(set.source == path)
            #expect(configError { try ConfigLoader.load(path: dir + "/missing.toml") }?.file == dir + "/missing.toml")
            let bad = dir + "/latin1.toml"
            try Data([0x74, 0x69, 0x74, 0x6C, 0x65, 0x3D, 0x22, 0xE9, 0xFF, 0x22, 0x0A]).write(to: URL(fileURLWithPath: bad))
            #expect(configError { try ConfigLoader.load(path: bad) }?.reason.contains("UTF-8") == true)
        }
    }
}

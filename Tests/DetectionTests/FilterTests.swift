import Foundation
import Testing
import Rules
@testable import Detection

/// Keyword gates, entropy, checksums, allowlists (rule and global), path rules, inline allow, skipReport.
@Suite("Filters")
struct FilterTests {
    // MARK: Keywords

    @Test("a keyword-gated rule fires only when one of its keywords occurs (case-insensitively)")
    func keywordGate() throws {
        let toml = singleRule(regex: #"\b([0-9a-f]{32})\b"#, extra: #"keywords = ["Deploy_Key", "other"]"#)
        let value = randomString(Alphabet.hexLower, count: 32)
        let detector = try makeDetector(toml)
        #expect(detector.ruleSet.rules[0].keywords == ["deploy_key", "other"])
        let scanner = detector.makeScanner()
        #expect(scanner.scan("value = \(value)").isEmpty)
        #expect(scanner.scan("DEPLOY_KEY = \(value)").map(\.secret) == [value])
        // The keyword may be anywhere in the unit, not only on the matching line.
        #expect(scanner.scan("# deploy_key below\nx\nvalue = \(value)").map(\.secret) == [value])
        // The scanner is reused: keyword hits from the previous scan must not leak into this one.
        #expect(scanner.scan("value = \(value)").isEmpty)
    }

    @Test("rules without keywords always run; keywords shared between rules gate each rule separately")
    func sharedKeywords() throws {
        let toml = """
        [[rules]]
        id = "a"
        regex = '''alpha_[a-z]{8}'''
        keywords = ["shared"]
        [[rules]]
        id = "b"
        regex = '''beta_[a-z]{8}'''
        keywords = ["shared", "beta_"]
        [[rules]]
        id = "c"
        regex = '''gamma_[a-z]{8}'''
        """
        let scanner = try makeDetector(toml).makeScanner()
        let text = "alpha_\(randomString(Alphabet.lower, count: 8)) beta_\(randomString(Alphabet.lower, count: 8)) gamma_\(randomString(Alphabet.lower, count: 8))"
        #expect(Set(scanner.scan(text).map(\.ruleID)) == ["b", "c"])
        #expect(Set(scanner.scan(text + " SHARED").map(\.ruleID)) == ["a", "b", "c"])
    }

    // MARK: Entropy

    @Test("entropy threshold: a secret whose entropy is <= the threshold is dropped", arguments: [
        (threshold: "1", secret: "abababab", kept: false),     // entropy exactly 1.0, integer threshold
        (threshold: "1.0", secret: "abababab", kept: false),   // exactly 1.0, float threshold
        (threshold: "0.99", secret: "abababab", kept: true),
        (threshold: "2.0", secret: "abcdabcd", kept: false),   // exactly 2.0
        (threshold: "1.9", secret: "abcdabcd", kept: true),
        (threshold: "3", secret: "abcdefgh", kept: false),     // exactly 3.0
    ])
    func entropy(threshold: String, secret: String, kept: Bool) throws {
        let toml = singleRule(regex: #"key=([a-h]{8})"#, extra: "entropy = \(threshold)")
        let found = try scan(toml, "key=\(secret)")
        #expect(found.isEmpty == !kept)
        if let f = found.first {
            #expect(abs(f.entropy - referenceEntropy(Array(secret.utf8))) < 1e-9)
        }
    }

    @Test("Entropy.shannon matches an independent computation")
    func entropyValues() {
        #expect(Entropy.shannon("") == 0)
        #expect(Entropy.shannon("aaaa") == 0)
        #expect(Entropy.shannon("abababab") == 1.0)
        #expect(Entropy.shannon("0123456789abcdef") == 4.0)
        for _ in 0..<20 {
            let s = randomString(Alphabet.base62, count: Int.random(in: 1...80))
            #expect(abs(Entropy.shannon(s) - referenceEntropy(Array(s.utf8))) < 1e-9)
        }
    }

    // MARK: Checksums

    @Test("the independent CRC-32 matches the standard check value")
    func referenceCRC() {
        #expect(ReferenceCRC32.crc(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(GitHubToken.base62(0, width: 6) == "000000")
        #expect(GitHubToken.base62(61, width: 6) == "00000z")
        #expect(GitHubToken.base62(62, width: 6) == "000010")
    }

    @Test("checksum = github keeps tokens with a valid CRC32/base62 checksum and drops broken ones",
          arguments: ["ghp_", "gho_", "npm_"])
    func githubChecksum(prefix: String) throws {
        let toml = singleRule(regex: #"\b((?:ghp|gho|npm)_[0-9A-Za-z]{36})\b"#, extra: #"checksum = "github""#)
        let scanner = try makeDetector(toml).makeScanner()
        for _ in 0..<5 {
            let good = GitHubToken.valid(prefix: prefix)
            let bad = GitHubToken.invalid(prefix: prefix)
            #expect(Checksum.github.isValid(good))
            #expect(!Checksum.github.isValid(bad))
            #expect(scanner.scan("token = \(good)").map(\.secret) == [good])
            #expect(scanner.scan("token = \(bad)").isEmpty)
        }
        #expect(!Checksum.github.isValid("ghp_"))
        #expect(!Checksum.github.isValid("ghp_abc"))
        #expect(!Checksum.github.isValid(""))
    }

    @Test("checksum = pypi needs a base64url macaroon naming pypi.org")
    func pypiChecksum() throws {
        let toml = singleRule(regex: #"\b(pypi-[A-Za-z0-9_-]{40,})"#, extra: #"checksum = "pypi""#)
        let scanner = try makeDetector(toml).makeScanner()
        let good = PyPIToken.make()
        let other = PyPIToken.make(containing: "test.org")
        #expect(Checksum.pypi.isValid(good))
        #expect(!Checksum.pypi.isValid(other))
        #expect(!Checksum.pypi.isValid("pypi-" + String(repeating: "!", count: 44)))
        #expect(!Checksum.pypi.isValid(String(good.dropFirst(5))))
        #expect(scanner.scan("TWINE_PASSWORD=\(good)").map(\.secret) == [good])
        #expect(scanner.scan("TWINE_PASSWORD=\(other)").isEmpty)
    }

    @Test("an unknown checksum name is a RuleCompileError naming the rule")
    func unknownChecksum() throws {
        let toml = singleRule(id: "bad-checksum", regex: "x_[a-z]{4}", extra: #"checksum = "luhn""#)
        let error = #expect(throws: RuleCompileError.self) { try makeDetector(toml) }
        #expect(error?.ruleID == "bad-checksum")
        #expect(error?.field == "checksum")
    }

    // MARK: Rule allowlists

    static let tokenRule = #"(?:key|KEY)\s*=\s*"?(tk_[A-Za-z0-9]{20})"?"#

    @Test("allowlist condition OR: any one condition suppresses; AND: every condition must hold")
    func orVersusAnd() throws {
        func toml(_ condition: String) -> String {
            singleRule(regex: Self.tokenRule, extra: """
            [[rules.allowlists]]
            condition = "\(condition)"
            paths = ['''^fixtures/''']
            stopwords = ["dummy"]
            """)
        }
        let real = "tk_" + highEntropyBase62(20)
        let dummy = "tk_dummy" + highEntropyBase62(15)
        for (condition, path, secret, suppressed) in [
            ("OR", "src/a.txt", real, false), ("OR", "fixtures/a.txt", real, true), ("OR", "src/a.txt", dummy, true),
            ("AND", "src/a.txt", real, false), ("AND", "fixtures/a.txt", real, false), ("AND", "src/a.txt", dummy, false),
            ("AND", "fixtures/a.txt", dummy, true),
        ] {
            let found = try scan(toml(condition), "key = \(secret)", path: path)
            #expect(found.isEmpty == suppressed, "\(condition) \(path) \(secret)")
        }
    }

    @Test("regexTarget selects what allowlist regexes are matched against", arguments: [
        (target: "secret", regex: #"^tk_test"#, suppressesTest: true, suppressesLineMarker: false),
        (target: "match", regex: #"^KEY\s*="#, suppressesTest: true, suppressesLineMarker: false),
        (target: "line", regex: #"#\s*fake-fixture"#, suppressesTest: false, suppressesLineMarker: true),
    ])
    func regexTarget(target: String, regex: String, suppressesTest: Bool, suppressesLineMarker: Bool) throws {
        let toml = singleRule(regex: Self.tokenRule, extra: """
        [[rules.allowlists]]
        regexTarget = "\(target)"
        regexes = ['''\(regex)''']
        """)
        let scanner = try makeDetector(toml).makeScanner()
        let plain = "tk_" + highEntropyBase62(20)
        let test = "tk_test" + highEntropyBase62(16)
        // Baseline: a lower-case key, no marker, not a test token: always reported.
        #expect(scanner.scan("key = \(plain)").count == 1)
        // A test-prefixed secret written with an upper-case key (secret and match targets both see it).
        #expect(scanner.scan("KEY = \(test)").isEmpty == suppressesTest)
        // A marker elsewhere on the line, outside the match.
        #expect(scanner.scan("key = \(plain)  # fake-fixture").isEmpty == suppressesLineMarker)
    }

    @Test("stopwords are case-insensitive substrings of the secret only")
    func stopwords() throws {
        let toml = singleRule(regex: Self.tokenRule, extra: """
        [[rules.allowlists]]
        stopwords = ["EXAMPLE"]
        """)
        let detector = try makeDetector(toml)
        #expect(detector.ruleSet.rules[0].allowlists[0].stopwords == ["example"])
        let scanner = detector.makeScanner()
        #expect(scanner.scan("key = tk_ExAmPlE\(highEntropyBase62(13))").isEmpty)
        #expect(scanner.scan("key = tk_xexamplex\(highEntropyBase62(11))").isEmpty)
        // The word outside the secret does not count.
        #expect(scanner.scan("key = tk_\(highEntropyBase62(20)) # example").count == 1)
    }

    @Test("path allowlist suppresses by file path")
    func pathAllowlist() throws {
        let toml = singleRule(regex: Self.tokenRule, extra: """
        [[rules.allowlists]]
        paths = ['''(^|/)testdata/''', '''\\.lock$''']
        """)
        let scanner = try makeDetector(toml).makeScanner()
        let text = "key = tk_\(highEntropyBase62(20))"
        #expect(scanner.scan(text, path: "pkg/testdata/x.txt").isEmpty)
        #expect(scanner.scan(text, path: "Package.lock").isEmpty)
        #expect(scanner.scan(text, path: "pkg/src/x.txt").count == 1)
    }

    @Test("commit allowlist suppresses findings from the listed commits only")
    func commitAllowlist() throws {
        let allowed = randomString(Alphabet.hexLower, count: 40)
        let other = randomString(Alphabet.hexLower, count: 40)
        let toml = singleRule(regex: Self.tokenRule, extra: """
        [[rules.allowlists]]
        commits = ["\(allowed)"]
        """)
        let scanner = try makeDetector(toml).makeScanner()
        let bytes = Array("key = tk_\(highEntropyBase62(20))".utf8)
        #expect(scanner.scan(bytes: bytes, provenance: Provenance(file: "a.txt", commit: allowed)).isEmpty)
        #expect(scanner.scan(bytes: bytes, provenance: Provenance(file: "a.txt", commit: other)).count == 1)
        #expect(scanner.scan(bytes: bytes, provenance: Provenance(file: "a.txt")).count == 1)
    }

    // MARK: Global allowlists

    @Test("a global allowlist applies to every rule unless targetRules narrows it")
    func globalAllowlists() throws {
        let toml = """
        [[rules]]
        id = "one"
        regex = '''one_([A-Za-z0-9]{16})'''
        [[rules]]
        id = "two"
        regex = '''two_([A-Za-z0-9]{16})'''
        [[allowlists]]
        description = "fixtures everywhere"
        paths = ['''^fixtures/''']
        [[allowlists]]
        description = "placeholders of rule two only"
        targetRules = ["two"]
        stopwords = ["placeholder"]
        """
        let scanner = try makeDetector(toml).makeScanner()
        let text = "one_placeholder\(highEntropyBase62(5)) two_placeholder\(highEntropyBase62(5))"
        #expect(scanner.scan(text, path: "src/a").map(\.ruleID) == ["one"])
        #expect(scanner.scan(text, path: "fixtures/a").isEmpty)
        #expect(scanner.isPathAllowlisted("fixtures/a"))
        #expect(!scanner.isPathAllowlisted("src/a"))
    }

    @Test("a global path allowlist with targetRules does not skip the whole file")
    func targetedPathAllowlist() throws {
        let toml = """
        [[rules]]
        id = "one"
        regex = '''one_([A-Za-z0-9]{16})'''
        [[rules]]
        id = "two"
        regex = '''two_([A-Za-z0-9]{16})'''
        [[allowlists]]
        targetRules = ["one"]
        paths = ['''^vendor/''']
        """
        let scanner = try makeDetector(toml).makeScanner()
        #expect(!scanner.isPathAllowlisted("vendor/x"))
        let found = scanner.scan("one_\(highEntropyBase62(16)) two_\(highEntropyBase62(16))", path: "vendor/x")
        #expect(found.map(\.ruleID) == ["two"])
    }

    // MARK: Path rules

    @Test("a path-only rule reports \"file detected\" for matching paths, even when empty")
    func pathOnlyRule() throws {
        let toml = """
        [[rules]]
        id = "pkcs12-file"
        description = "PKCS#12 file"
        path = '''\\.p12$'''
        tags = ["file"]
        """
        let scanner = try makeDetector(toml).makeScanner()
        let found = scanner.scan("binary-ish content", path: "certs/client.p12")
        #expect(found.count == 1)
        #expect(found.first?.match == "file detected: certs/client.p12")
        #expect(found.first?.ruleID == "pkcs12-file")
        #expect(found.first?.tags == ["file"])
        #expect(found.first?.secret == "")
        #expect(scanner.scan("", path: "certs/empty.p12").count == 1)
        #expect(scanner.scan("binary-ish content", path: "certs/client.p12.txt").isEmpty)
        // Two different files give two different fingerprints.
        #expect(scanner.scan("", path: "a.p12").first?.fingerprint != scanner.scan("", path: "b.p12").first?.fingerprint)
    }

    @Test("a rule with path and regex applies only to files whose path matches")
    func pathAndRegexRule() throws {
        let toml = singleRule(id: "env-password", regex: #"PASSWORD=(\S{8,})"#, extra: #"path = '''(^|/)\.env(\.[a-z]+)?$'''"#)
        let scanner = try makeDetector(toml).makeScanner()
        let text = "PASSWORD=\(highEntropyBase62(16))"
        #expect(scanner.scan(text, path: "app/.env").count == 1)
        #expect(scanner.scan(text, path: ".env.local").count == 1)
        #expect(scanner.scan(text, path: "app/env.txt").isEmpty)
        #expect(scanner.scan(text, path: "").isEmpty)
    }

    @Test("anyPath judges the content alone: path conditions met, path and commit allowlists unmet, path-only rules silent, no decoding budget")
    func anyPathJudgesContentAlone() throws {
        let commit = randomString(Alphabet.hexLower, count: 40)
        let toml = """
        [[rules]]
        id = "env-password"
        regex = '''PASSWORD=(\\S{8,})'''
        path = '''(^|/)\\.env$'''
        [[rules]]
        id = "token"
        regex = '''tok_([A-Za-z0-9]{20})'''
        [[rules.allowlists]]
        paths = ['''^fixtures/''']
        [[rules.allowlists]]
        commits = ["\(commit)"]
        [[rules.allowlists]]
        stopwords = ["placeholder"]
        [[rules]]
        id = "pkcs12-file"
        path = '''\\.p12$'''
        [[allowlists]]
        paths = ['''^vendor/''']
        """
        let scanner = try makeDetector(toml, options: DetectorOptions(maxDecodedBytes: 16)).makeScanner()
        func anyPath(_ text: String, path: String = "fixtures/x.p12", commit: String = "") -> [String] {
            Array(text.utf8).withUnsafeBytes {
                scanner.scan($0, provenance: Provenance(file: path, commit: commit), anyPath: true).map(\.ruleID)
            }
        }
        let password = "PASSWORD=\(highEntropyBase62(16))"
        let token = "tok_\(highEntropyBase62(20))"
        // Located scans: the path condition, the path and commit allowlists and the global path allowlist hold.
        #expect(scanner.scan(password, path: "app/config.txt").isEmpty)
        #expect(scanner.scan(token, path: "fixtures/a.txt").isEmpty)
        #expect(scanner.scan(bytes: Array(token.utf8), provenance: Provenance(file: "a.txt", commit: commit)).isEmpty)
        #expect(scanner.scan(token, path: "vendor/a.txt").isEmpty)
        #expect(scanner.scan("", path: "x.p12").map(\.ruleID) == ["pkcs12-file"])
        // Judged at any path and commit, the content holds both secrets; the path-only rule says nothing.
        #expect(anyPath(password) == ["env-password"])
        #expect(anyPath(token) == ["token"])
        #expect(anyPath(token, path: "vendor/a.txt", commit: commit) == ["token"])
        #expect(anyPath("") == [])
        // Content conditions still hold everywhere.
        #expect(anyPath("tok_placeholder\(highEntropyBase62(9))").isEmpty)
        // The decoding budget (16 bytes here) does not stop anyPath: a base64-encoded token past it is found.
        let padding = (0..<4).map { _ in Data(highEntropyBase62(30).utf8).base64EncodedString() }.joined(separator: " ")
        let encoded = padding + " " + Data(token.utf8).base64EncodedString()
        #expect(scanner.scan(encoded, path: "a.txt").isEmpty)
        #expect(anyPath(encoded) == ["token"])
    }

    // MARK: Inline allow

    @Test("inline sealant:allow and gitleaks:allow suppress the line; ignoreInlineAllow disables that",
          arguments: ["# sealant:allow", "// gitleaks:allow", "/* sealant:allow */"])
    func inlineAllow(comment: String) throws {
        let toml = singleRule(regex: Self.tokenRule)
        let secret = "tk_" + highEntropyBase62(20)
        let text = "key = \(secret) \(comment)\nkey = tk_\(highEntropyBase62(20))"
        let honoured = try scan(toml, text)
        #expect(honoured.count == 1)
        #expect(honoured.first?.startLine == 2)
        let ignored = try scan(toml, text, options: DetectorOptions(ignoreInlineAllow: true))
        #expect(ignored.count == 2)
        // The directive on another line does not help.
        #expect(try scan(toml, "\(comment)\nkey = \(secret)").count == 1)
    }

    @Test("inline allow anywhere on a very long line suppresses every finding on that line")
    func inlineAllowOnLongLine() throws {
        let toml = singleRule(regex: Self.tokenRule)
        let filler = String(repeating: "x ", count: 300_000)
        var text = ""
        for _ in 0..<40 { text += "key = tk_\(highEntropyBase62(20)) \(filler.prefix(10_000)) " }
        let allowed = text + filler + " gitleaks:allow"
        #expect(try scan(toml, allowed).isEmpty)
        #expect(try scan(toml, text + filler).count == 40)
    }

    @Test("the inline-allow byte search matches exactly the two directives", arguments: [
        ("sealant:allow", true), ("gitleaks:allow", true), ("x = 1 # gitleaks:allow", true),
        ("/*sealant:allow*/", true), ("sealant:allo", false), ("ealant:allow", false), (":allow", false),
        ("gitleaks allow", false), ("sealant::allow", false), ("", false), ("Sealant:Allow", false),
    ])
    func inlineAllowSearch(line: String, expected: Bool) {
        #expect(Array(line.utf8).withUnsafeBytes { Detection.Scanner.containsInlineAllow($0) } == expected)
    }

    // MARK: skipReport

    @Test("skipReport rules produce no findings, regex or path-only")
    func skipReport() throws {
        let toml = """
        [[rules]]
        id = "component"
        regex = '''cmp_[a-z]{8}'''
        skipReport = true
        [[rules]]
        id = "component-file"
        path = '''\\.pem$'''
        skipReport = true
        [[rules]]
        id = "visible"
        regex = '''vis_[a-z]{8}'''
        """
        let found = try scan(toml, "cmp_\(randomString(Alphabet.lower, count: 8)) vis_\(randomString(Alphabet.lower, count: 8))", path: "a.pem")
        #expect(found.map(\.ruleID) == ["visible"])
    }

    // MARK: Secret groups

    @Test("secretGroup: explicit group, default first non-empty group, whole match without groups")
    func secretGroups() throws {
        let value = highEntropyBase62(16)
        #expect(try scan(singleRule(regex: #"(id)=(v_[A-Za-z0-9]{16})"#, extra: "secretGroup = 2"), "id=v_\(value)").map(\.secret) == ["v_\(value)"])
        #expect(try scan(singleRule(regex: #"(id)=(v_[A-Za-z0-9]{16})"#), "id=v_\(value)").map(\.secret) == ["id"])
        #expect(try scan(singleRule(regex: #"(x?)(?:a|b)=(v_[A-Za-z0-9]{16})"#), "a=v_\(value)").map(\.secret) == ["v_\(value)"])
        #expect(try scan(singleRule(regex: #"v_[A-Za-z0-9]{16}"#), "a=v_\(value)").map(\.secret) == ["v_\(value)"])
        let alternation = #"(?:one:([a-z]{6})|two:([A-Za-z0-9]{16}))"#
        #expect(try scan(singleRule(regex: alternation), "two:\(value)").map(\.secret) == [value])
        // A secretGroup beyond the regex's groups gives no finding rather than a crash.
        #expect(try scan(singleRule(regex: #"v_([A-Za-z0-9]{16})"#, extra: "secretGroup = 3"), "v_\(value)").isEmpty)
        // An explicit group that did not participate gives no finding.
        #expect(try scan(singleRule(regex: alternation, extra: "secretGroup = 1"), "two:\(value)").isEmpty)
    }
}

@Suite("Global path allowlist as one alternation")
struct CombinedPathAllowlistTests {
    @Test("inline flags stay inside their pattern; lists with other conditions or rule targets are left out")
    func combinedMatchesLikeSeparatePatterns() throws {
        let lists = [
            Allowlist(paths: [#"(?i)\.png$"#, #"(?:^|/)vendor/"#]),
            Allowlist(paths: [#"^Keep\.txt$"#]),
            Allowlist(regexes: ["x"], paths: [#"conditional\.txt$"#]),
            Allowlist(paths: [#"targeted\.txt$"#], targetRules: ["one"]),
        ]
        let combined = try #require(Detector.combinedPathAllowlist(lists, deferred: false))
        let matcher = PCRE2Matcher()
        for path in ["a/B.PNG", "vendor/x.go", "src/vendor/y", "Keep.txt"] { #expect(matcher.isMatch(combined, path), "\(path)") }
        // `(?i)` of the first pattern must not leak into the others.
        for path in ["keep.txt", "VENDOR/x.go", "a/conditional.txt", "a/targeted.txt", "a.png.txt"] {
            #expect(!matcher.isMatch(combined, path), "\(path)")
        }
        #expect(Detector.combinedPathAllowlist([Allowlist(paths: [#"(a)\1"#])], deferred: false) == nil)
        #expect(Detector.combinedPathAllowlist([Allowlist(paths: [#"\Qa.b"#])], deferred: false) == nil)
        #expect(Detector.combinedPathAllowlist([Allowlist(regexes: ["x"])], deferred: false) == nil)
    }
}

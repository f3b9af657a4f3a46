import Foundation
import Testing
import Rules
@testable import Detection

/// The two-stage engine (Vectorscan candidates, PCRE2 confirmation on windows) must report exactly
/// what running every rule's PCRE2 regex over the whole input reports, after the same filters.
@Suite("Two-stage equivalence")
struct EquivalenceTests {
    /// ~12 rules covering bounded, unbounded, case-insensitive, multi-line, keyword-gated,
    /// secretGroup, first-non-empty-group, no-group, entropy, checksum and prefilter-mode rules.
    static let rulesTOML = #"""
    [[rules]]
    id = "bounded-akia"
    regex = '''\b(AKIA[0-9A-Z]{16})\b'''
    keywords = ["akia"]

    [[rules]]
    id = "unbounded-xoxb"
    regex = '''xoxb-[0-9A-Za-z-]{10,}'''
    keywords = ["xoxb-"]

    [[rules]]
    id = "caseless-apikey"
    regex = '''(?i)\bapi[_-]?key\s*[:=]\s*["']?([0-9a-z]{32})\b'''
    secretGroup = 1
    entropy = 3.0
    keywords = ["api"]

    [[rules]]
    id = "multiline-key"
    regex = '''-----BEGIN TEST KEY-----\r?\n[A-Za-z0-9+/=\r\n]{16,2048}\r?\n-----END TEST KEY-----'''
    keywords = ["begin test key"]

    [[rules]]
    id = "gated-hex"
    regex = '''\b([0-9a-f]{40})\b'''
    entropy = 3.0
    keywords = ["commit_token"]

    [[rules]]
    id = "group3-stripe"
    regex = '''\b(sk|pk)_(live|test)_([0-9a-zA-Z]{24,32})\b'''
    secretGroup = 3

    [[rules]]
    id = "nogroup-glpat"
    regex = '''glpat-[0-9A-Za-z_-]{20}'''

    [[rules]]
    id = "alternation-bearer"
    regex = '''(?:[Bb]earer\s+([A-Za-z0-9._~+/-]{20,60})|Authorization:\s*Token\s+([0-9a-f]{40}))'''
    keywords = ["bearer", "authorization"]

    [[rules]]
    id = "entropy-password"
    regex = '''password\s*=\s*"([^"\s]{8,64})"'''
    entropy = 3.5
    keywords = ["password"]

    [[rules]]
    id = "checksum-ghp"
    regex = '''\b(ghp_[0-9A-Za-z]{36})\b'''
    checksum = "github"
    keywords = ["ghp_"]

    [[rules]]
    id = "lookahead-tok"
    regex = '''\btok_([a-z0-9]{16})(?=[;\s])'''
    keywords = ["tok_"]

    [[rules]]
    id = "lazy-secret"
    regex = '''(?i)secret_[a-z0-9]{8,}?X'''
    """#

    // MARK: Reference

    /// Every rule's PCRE2 regex over the whole input, then keyword, secret-group, entropy and checksum
    /// filters implemented here, independently of `Scanner`.
    static func reference(_ rules: [Rule], _ bytes: [UInt8]) throws -> [Hit] {
        let lowered = bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        let lines = ReferenceLines(bytes)
        let matcher = PCRE2Matcher()
        var hits = [Hit]()
        for rule in rules {
            guard let source = rule.regex else { continue }
            if !rule.keywords.isEmpty && !rule.keywords.contains(where: { bytesContain(lowered, $0) }) { continue }
            let regex = try PCRE2Regex(source)
            let matches = bytes.withUnsafeBytes { matcher.matches(regex, in: $0, searchRange: 0..<bytes.count, limit: .max) }
            for m in matches {
                let secretRange: Range<Int>?
                if let group = rule.secretGroup, group > 0 {
                    secretRange = group <= m.groups.count ? m.groups[group - 1] : nil
                } else {
                    secretRange = m.groups.compactMap { $0 }.first { !$0.isEmpty } ?? m.range
                }
                guard let secretRange, !secretRange.isEmpty else { continue }
                let secretBytes = Array(bytes[secretRange])
                if let threshold = rule.entropy, referenceEntropy(secretBytes) <= threshold { continue }
                let secret = String(decoding: secretBytes, as: UTF8.self)
                if rule.checksum == "github" && !GitHubToken.isValid(secret) { continue }
                let start = lines.position(of: m.range.lowerBound)
                let end = lines.position(of: max(m.range.lowerBound, m.range.upperBound - 1))
                hits.append(Hit(rule: rule.id, startLine: start.line, startColumn: start.column, endLine: end.line,
                                endColumn: end.column, match: String(decoding: bytes[m.range], as: UTF8.self),
                                secret: secret))
            }
        }
        return hits.sorted()
    }

    static func engine(_ detector: Detector, _ bytes: [UInt8]) -> [Hit] {
        detector.makeScanner().scan(bytes: bytes).map(Hit.init).sorted()
    }

    static func detector() throws -> Detector {
        try makeDetector(rulesTOML, options: DetectorOptions(maxDecodeDepth: 0))
    }

    /// Reports the first differences readably instead of dumping two huge arrays.
    static func expectSame(_ engine: [Hit], _ reference: [Hit], sourceLocation: SourceLocation = #_sourceLocation) {
        let onlyEngine = Set(engine).subtracting(reference).sorted()
        let onlyReference = Set(reference).subtracting(engine).sorted()
        #expect(onlyEngine.isEmpty, "engine-only findings: \(onlyEngine.prefix(5))", sourceLocation: sourceLocation)
        #expect(onlyReference.isEmpty, "reference-only findings: \(onlyReference.prefix(5))", sourceLocation: sourceLocation)
        #expect(engine.count == reference.count, "duplicate findings differ", sourceLocation: sourceLocation)
    }

    // MARK: Corpus

    /// Planted tokens of every rule, some deliberately filtered (low entropy, bad checksum).
    static func token<G: RandomNumberGenerator>(_ g: inout G) -> String {
        switch Int.random(in: 0..<16, using: &g) {
        case 0: return "AKIA" + randomString(Alphabet.upperDigits, count: 16, using: &g)
        case 1: return "xoxb-" + randomString(Alphabet.base62 + Array("-".utf8), count: Int.random(in: 10...90, using: &g), using: &g)
        case 2:
            let key = ["api_key", "API-KEY", "ApiKey", "apikey"][Int.random(in: 0..<4, using: &g)]
            let value = Bool.random(using: &g) ? randomString(Alphabet.base62, count: 32, using: &g) : String(repeating: "ab", count: 16)
            return "\(key) = \"\(value)\""
        case 3:
            var block = "-----BEGIN TEST KEY-----\n"
            for _ in 0..<Int.random(in: 1...6, using: &g) {
                block += randomString(Alphabet.base64, count: 64, using: &g) + "\n"
            }
            return block + "-----END TEST KEY-----"
        case 4: return randomString(Alphabet.hexLower, count: 40, using: &g)
        case 5:
            return ["sk", "pk"][Int.random(in: 0..<2, using: &g)] + "_" + ["live", "test"][Int.random(in: 0..<2, using: &g)]
                + "_" + randomString(Alphabet.base62, count: Int.random(in: 24...32, using: &g), using: &g)
        case 6: return "glpat-" + randomString(Alphabet.base62 + Array("_-".utf8), count: 20, using: &g)
        case 7: return "Authorization: Bearer " + randomString(Alphabet.base62 + Array("._-".utf8), count: Int.random(in: 20...70, using: &g), using: &g)
        case 8: return "Authorization: Token " + randomString(Alphabet.hexLower, count: 40, using: &g)
        case 9:
            let value = Bool.random(using: &g) ? randomString(Alphabet.base62, count: 16, using: &g) : "changeme"
            return "password = \"\(value)\""
        case 10:
            let body = randomString(Alphabet.base62, count: 30, using: &g)
            let check = Bool.random(using: &g) ? GitHubToken.checksum(of: body) : "000000"
            return "ghp_" + body + check
        case 11: return "tok_" + randomString(Alphabet.lowerDigits, count: 16, using: &g) + [";", " ", "x", "\n"][Int.random(in: 0..<4, using: &g)]
        case 12: return "SECRET_" + randomString(Alphabet.lowerDigits, count: Int.random(in: 6...20, using: &g), using: &g) + "X"
        case 13: return "commit_token"
        default: return "AKIA" + randomString(Alphabet.upperDigits, count: Int.random(in: 14...18, using: &g), using: &g)
        }
    }

    static func codeLine<G: RandomNumberGenerator>(_ g: inout G) -> String {
        let ident = randomString(Alphabet.lower, count: Int.random(in: 3...10, using: &g), using: &g)
        let word = randomString(Alphabet.lowerDigits, count: Int.random(in: 1...12, using: &g), using: &g)
        switch Int.random(in: 0..<8, using: &g) {
        case 0: return "let \(ident) = \(ident)(\(Int.random(in: 0...9999, using: &g)), \"\(word)\");"
        case 1: return "// \(word) \(ident) \(word)"
        case 2: return "func \(ident)() -> Int {"
        case 3: return "    return \(Int.random(in: 0...99, using: &g))"
        case 4: return "}"
        case 5: return ""
        case 6: return "\(ident): \(word)"
        default: return "    \(ident).\(ident) = [\(word), \(ident)]"
        }
    }

    /// Lines of code-like text; about one line in four carries a planted token somewhere in it.
    /// `keywordFree` leaves out `commit_token`, so the gated rule must stay silent.
    static func corpus(seed: UInt64, lines: Int, keywordFree: Bool = false, crlf: Bool = false) -> [UInt8] {
        var g = SeededGenerator(seed: seed)
        var out = [String]()
        // A token at the very start of the buffer.
        out.append("glpat-" + randomString(Alphabet.base62, count: 20, using: &g) + " start")
        for _ in 0..<lines {
            var line = codeLine(&g)
            if Int.random(in: 0..<4, using: &g) == 0 {
                var t = token(&g)
                if keywordFree && t == "commit_token" { t = "commit" }
                let sep = [" ", "=", "\"", "'", ",", "(", ""][Int.random(in: 0..<7, using: &g)]
                line = Bool.random(using: &g) ? line + sep + t : t + sep + line
            }
            out.append(line)
        }
        // A token that ends the buffer, with no trailing newline.
        out.append("end AKIA" + randomString(Alphabet.upperDigits, count: 16, using: &g))
        return Array(out.joined(separator: crlf ? "\r\n" : "\n").utf8)
    }

    // MARK: Tests

    @Test("generated corpus: engine == PCRE2 over the whole input", arguments: [
        (seed: UInt64(1), keywordFree: false, crlf: false),
        (seed: UInt64(2), keywordFree: true, crlf: false),
        (seed: UInt64(3), keywordFree: false, crlf: true),
        (seed: UInt64(4), keywordFree: false, crlf: false),
    ])
    func generatedCorpus(seed: UInt64, keywordFree: Bool, crlf: Bool) throws {
        let detector = try Self.detector()
        let bytes = Self.corpus(seed: seed, lines: 3000, keywordFree: keywordFree, crlf: crlf)
        let reference = try Self.reference(detector.ruleSet.rules, bytes)
        let engine = Self.engine(detector, bytes)
        Self.expectSame(engine, reference)

        // Not vacuous: every rule fires (the gated one only when its keyword is present), and the
        // filters drop something (low-entropy values, broken checksums).
        let fired = Set(reference.map(\.rule))
        for rule in detector.ruleSet.rules where !(keywordFree && rule.id == "gated-hex") {
            #expect(fired.contains(rule.id), "rule \(rule.id) never fired in the corpus")
        }
        if keywordFree { #expect(!fired.contains("gated-hex")) }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("changeme") && !reference.contains { $0.secret == "changeme" })
        #expect(reference.contains { $0.rule == "multiline-key" && $0.endLine > $0.startLine })
        #expect(reference.first?.startLine == 1 && reference.first?.startColumn == 1)
        #expect(reference.contains { $0.rule == "bounded-akia" && $0.endLine == bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count })
    }

    @Test("dense input: a 1 MB line of random alphanumerics with tokens inside")
    func denseLine() throws {
        let detector = try Self.detector()
        var g = SeededGenerator(seed: 99)
        var line = [UInt8]()
        line.reserveCapacity(1 << 20)
        // Token at offset 0.
        line += Array(("AKIA" + randomString(Alphabet.upperDigits, count: 16, using: &g) + " ").utf8)
        while line.count < (1 << 20) - 200 {
            line += Array(randomString(Alphabet.base62, count: Int.random(in: 300...20_000, using: &g), using: &g).utf8)
            var t = Self.token(&g)
            if t.hasPrefix("-----BEGIN") { t = "commit_token" }
            t = t.replacingOccurrences(of: "\n", with: " ")
            let delimiter = [" ", "=", "\"", ";", ""][Int.random(in: 0..<5, using: &g)]
            line += Array((delimiter + t + delimiter).utf8)
        }
        // Token at the very end, no newline.
        line += Array((" ghp_" + { let b = randomString(Alphabet.base62, count: 30, using: &g); return b + GitHubToken.checksum(of: b) }()).utf8)
        #expect(!line.contains(0x0A))

        let reference = try Self.reference(detector.ruleSet.rules, line)
        let engine = Self.engine(detector, line)
        Self.expectSame(engine, reference)
        #expect(reference.count >= 20)
        #expect(reference.contains { $0.startColumn == 1 })
        #expect(reference.contains { $0.endColumn == line.count })
    }

    @Test("tokens at the very start and end of the buffer, with and without newlines",
          arguments: ["", "\n", "\r\n"])
    func bufferEdges(trailer: String) throws {
        let detector = try Self.detector()
        let first = "AKIA" + randomString(Alphabet.upperDigits, count: 16)
        let last = "glpat-" + randomString(Alphabet.base62, count: 20)
        let bytes = Array((first + "\nmiddle\n" + last + trailer).utf8)
        let engine = Self.engine(detector, bytes)
        Self.expectSame(engine, try Self.reference(detector.ruleSet.rules, bytes))
        #expect(engine.map(\.secret) == [first, last])
        #expect(engine.first.map { [$0.startLine, $0.startColumn, $0.endColumn] } == [1, 1, 20])
        #expect(engine.last.map { [$0.startLine, $0.startColumn, $0.endColumn] } == [3, 1, 26])
    }

    @Test("lines longer than the 4 KiB window still match like the whole-input regex")
    func longLinesWithRepeatedTokens() throws {
        // Candidates more than a merge gap apart on one very long line, plus matches whose
        // trailing \b lands near window edges.
        let detector = try Self.detector()
        var g = SeededGenerator(seed: 7)
        var text = ""
        for i in 0..<200 {
            text += String(repeating: ".", count: Int.random(in: 900...5000, using: &g))
            text += i % 3 == 0 ? "AKIA" + randomString(Alphabet.upperDigits, count: Int.random(in: 16...40, using: &g), using: &g) : ""
            text += i % 3 == 1 ? "sk_live_" + randomString(Alphabet.base62, count: Int.random(in: 20...60, using: &g), using: &g) : ""
            text += i % 3 == 2 ? "tok_" + randomString(Alphabet.lowerDigits, count: 16, using: &g) + ";" : ""
        }
        let bytes = Array(text.utf8)
        Self.expectSame(Self.engine(detector, bytes), try Self.reference(detector.ruleSet.rules, bytes))
    }

    @Test("a word-boundary rule is not satisfied by the end of a truncated confirmation window")
    func windowEndIsNotAWordBoundary() throws {
        // One real match, then 4 KiB later (exactly where the confirmation window is cut) a look-alike
        // whose letters run on past the cut: the whole-input regex finds no \b there, so neither may the engine.
        let rule = singleRule(id: "boundary", regex: #"tok_[a-z]{10,40}\b"#)
        let detector = try makeDetector(rule, options: DetectorOptions(maxDecodeDepth: 0))
        let real = "tok_" + randomString(Alphabet.lower, count: 10)
        var text = real + " "
        let cut = real.utf8.count + 4096  // where the window ends: 4 KiB past the candidate end
        text += String(repeating: ".", count: cut - 20 - text.utf8.count)
        text += "tok_" + randomString(Alphabet.lower, count: 66) + " end\n"
        let bytes = Array(text.utf8)
        let reference = try Self.reference(detector.ruleSet.rules, bytes)
        #expect(reference.map(\.secret) == [real])
        Self.expectSame(Self.engine(detector, bytes), reference)
    }

    @Test("KNOWN LIMITATION: a leading unbounded repeat longer than the look-behind window is cut short")
    func unboundedLeadingRepeat() throws {
        // Vectorscan reports only match ends; for unbounded rules the engine confirms on a window
        // reaching 4 KiB (plus up to 4 KiB to a line start) behind the first end, so a match that
        // starts further back is reported from the window start. Rules are written with a literal
        // prefix or bounded repeats (see the rules brief); this documents the edge.
        let rule = singleRule(id: "leading", regex: #"[a-z]{20,}END"#)
        let detector = try makeDetector(rule, options: DetectorOptions(maxDecodeDepth: 0))
        let bytes = Array((String(repeating: "ab", count: 6_000) + "END\n").utf8)
        let reference = try Self.reference(detector.ruleSet.rules, bytes)
        #expect(reference.first?.startColumn == 1)
        withKnownIssue("match start limited to the look-behind window for unbounded rules") {
            Self.expectSame(Self.engine(detector, bytes), reference)
        }
        // Within the window the result is exact.
        let short = Array((String(repeating: "ab", count: 1_000) + "END\n").utf8)
        Self.expectSame(Self.engine(detector, short), try Self.reference(detector.ruleSet.rules, short))
    }
}

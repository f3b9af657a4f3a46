import Foundation
@testable import Rules
import Testing

@Suite("Built-in rules cache")
struct BuiltInRulesCacheTests {
    @Test func cachedRulesScanLikeTheParsedOnesAndACorruptEntryIsRebuilt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sealant-rules-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = BuiltInRulesCache(directory: directory)
        let parsed = try ConfigLoader.builtIn()
        let first = try cache.ruleSet()
        #expect(first == parsed, "the first call parses")
        #expect(FileManager.default.fileExists(atPath: cache.path))

        let cached = try cache.ruleSet()
        #expect(cached.rules.map(\.id) == parsed.rules.map(\.id))
        #expect(cached.rules.map(\.regex) == parsed.rules.map(\.regex))
        #expect(cached.rules.map(\.keywords) == parsed.rules.map(\.keywords))
        #expect(cached.rules.map(\.allowlists) == parsed.rules.map(\.allowlists))
        #expect(cached.allowlists == parsed.allowlists)
        #expect(cached.rules.allSatisfy { $0.examples.isEmpty }, "examples are left out of the cache")
        // Starts with a NUL: scanners treat the file as binary.
        #expect(FileManager.default.contents(atPath: cache.path)?.contains(0) == true)

        try Data("{\"title\": 1".utf8).write(to: URL(fileURLWithPath: cache.path))
        #expect(try cache.ruleSet() == parsed, "a corrupt entry is ignored and rewritten")
        // A valid header on a cut-off body is corrupt too.
        let whole = try #require(FileManager.default.contents(atPath: cache.path))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: cache.path))
        #expect(try cache.ruleSet() == parsed, "a truncated entry is ignored and rewritten")
        #expect(FileManager.default.contents(atPath: cache.path) == whole)
        #expect(try cache.ruleSet().rules.map(\.id) == parsed.rules.map(\.id))

        let resolved = try ConfigLoader.resolve(explicitPath: nil, scanRoot: nil, environment: [:], builtInCache: directory)
        #expect(resolved.rules.map(\.id) == parsed.rules.map(\.id))
    }

    @Test func archiveRoundTripsEveryFieldAndRejectsEveryTruncation() throws {
        var parsed = try ConfigLoader.builtIn()
        // Fields the built-in rules leave at their defaults, set so the round trip covers them.
        parsed.rules[0].entropy = 3.25
        parsed.rules[0].skipReport = true
        parsed.rules[0].secretGroup = 300
        parsed.rules[1].allowlists = [Allowlist(description: "d ü", condition: .and, regexTarget: .line, regexes: ["a"],
                                                paths: ["p"], stopwords: ["s"], commits: ["c"], targetRules: ["r"])]
        parsed.title = "t"
        let bytes = RuleSetArchive.encode(parsed)
        #expect(try bytes.withUnsafeBytes { try RuleSetArchive.decode($0) } == parsed)

        let small = RuleSetArchive.encode(RuleSet(title: "x", rules: Array(parsed.rules.prefix(3)), allowlists: parsed.allowlists))
        for cut in 0 ..< small.count {
            #expect(throws: (any Error).self) { try small.prefix(cut).withUnsafeBytes { try RuleSetArchive.decode($0) } }
        }
        #expect(throws: (any Error).self) { try (small + [0]).withUnsafeBytes { try RuleSetArchive.decode($0) } }
    }

    @Test func buildTimeFingerprintFollowsTheEmbeddedRules() {
        #expect(EmbeddedPatterns.fingerprint.count == 16)
        #expect(EmbeddedPatterns.fingerprint.allSatisfy { $0.isHexDigit })
        #expect(EmbeddedPatterns.fingerprint == BuiltInRulesCacheTests.fnv1a(DefaultRules.toml))
    }

    /// The tool's hash, recomputed here: FNV-1a (64 bits) over the joined TOML text.
    static func fnv1a(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

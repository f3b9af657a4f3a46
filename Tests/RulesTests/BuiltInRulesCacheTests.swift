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
        #expect(try cache.ruleSet().rules.map(\.id) == parsed.rules.map(\.id))

        let resolved = try ConfigLoader.resolve(explicitPath: nil, scanRoot: nil, environment: [:], builtInCache: directory)
        #expect(resolved.rules.map(\.id) == parsed.rules.map(\.id))
    }
}

import Foundation
import Testing
import Rules
@testable import Detection

/// Two-stage equivalence over the whole default rule set. Slow on a cold machine (compiling the
/// built-in database takes tens of seconds, mostly the private-key rules), so it runs only with
/// SEALANT_SLOW_TESTS=1; the database is cached under the temp dir for later runs.
@Suite("Built-in rules: two-stage equivalence (SEALANT_SLOW_TESTS=1)")
struct BuiltInEquivalenceTests {
    @Test("every built-in rule's samples, shuffled into code: engine == PCRE2 over the whole input",
          .enabled(if: ProcessInfo.processInfo.environment["SEALANT_SLOW_TESTS"] == "1"))
    func builtInRules() throws {
        // Allowlists are left out: this compares matching, not suppression (tested elsewhere).
        var set = try ConfigLoader.builtIn()
        set.allowlists = []
        set.rules = set.rules.filter { $0.regex != nil }.map { rule in
            var r = rule
            r.allowlists = []
            return r
        }
        let cache = DatabaseCache(directory: NSTemporaryDirectory() + "sealant-test-db-cache")
        let detector = try Detector(ruleSet: set, options: DetectorOptions(maxDecodeDepth: 0), cache: cache)
        var g = SeededGenerator(seed: 42)
        var pieces = [String]()
        for rule in set.rules {
            pieces += rule.examples + rule.negativeExamples
            for secret in rule.sampleSecrets {
                pieces += RuleCheck.contexts.map { $0.render(rule.sampleKey ?? "token", secret) }
            }
        }
        pieces.shuffle(using: &g)
        var text = ""
        for piece in pieces {
            text += EquivalenceTests.codeLine(&g) + "\n" + piece + [" ", "\n", "", " x\n"][Int.random(in: 0..<4, using: &g)]
        }
        // Plus one long line holding many of them.
        text += "\n" + pieces.prefix(400).map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: " ") + "\n"
        let bytes = Array(text.utf8)

        let checksums = Dictionary(uniqueKeysWithValues: set.rules.map { ($0.id, $0.checksum) })
        // The reference implements the github checksum independently; pypi uses the engine's validator.
        let reference = try EquivalenceTests.reference(set.rules, bytes).filter {
            checksums[$0.rule] != "pypi" || Checksum.pypi.isValid($0.secret)
        }
        let engine = EquivalenceTests.engine(detector, bytes)
        #expect(reference.count > 1000)
        EquivalenceTests.expectSame(engine, reference)
    }
}

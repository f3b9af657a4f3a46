import Foundation
import Testing
import Rules
@testable import Detection

/// Rule problems found when the detector compiles a loaded configuration.
@Suite("Compiling loaded rules")
struct DetectorCompileTests {
    @Test("an invalid regex in a user rule is a RuleCompileError naming the rule id")
    func invalidRegex() throws {
        let set = try ConfigLoader.parse(rule("good") + rule("user-broken", regex: "tk_[a-z"), source: "user.toml")
        let error = #expect(throws: RuleCompileError.self) { try Detector(ruleSet: set) }
        #expect(error?.ruleID == "user-broken")
        #expect(error?.field == "regex")
        #expect(error?.description.hasPrefix("rule user-broken: regex cannot be compiled:") == true)
    }

    @Test("an invalid regex in a file loaded through [extend] is reported with its rule id")
    func invalidRegexInBase() throws {
        try withTemporaryDirectory { dir in
            let base = try write(rule("base-broken", regex: "(unclosed"), to: dir, "base.toml")
            let set = try ConfigLoader.parse("[extend]\npath = \"\(base)\"\n" + rule("own"), source: "child.toml")
            let error = #expect(throws: RuleCompileError.self) { try Detector(ruleSet: set) }
            #expect(error?.ruleID == "base-broken")
        }
    }

    @Test("a loaded config with valid rules compiles and detects")
    func compiles() throws {
        let set = try ConfigLoader.parse(rule("tk", regex: "tk_[a-z]{8}"), source: "user.toml")
        let found = try Detector(ruleSet: set).makeScanner().scan("x = tk_abcdefgh")
        #expect(found.map(\.ruleID) == ["tk"])
    }
}

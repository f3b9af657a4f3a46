import Foundation
import Testing
@testable import Rules

/// `[extend]`: useDefault, path, disabledRules, overrides by id, depth limit.
@Suite("Config [extend]")
struct ExtendTests {
    static let base = #"""
    title = "base"
    [[allowlists]]
    description = "base global"
    paths = ['''^base/''']

    [[rules]]
    id = "shared"
    description = "base description"
    regex = '''base_[a-z]{8}'''
    secretGroup = 0
    entropy = 2.5
    keywords = ["base_"]
    tags = ["base"]
    path = '''\.txt$'''
      [[rules.allowlists]]
      description = "base allowlist"
      stopwords = ["basestop"]

    [[rules]]
    id = "base-only"
    regex = '''bonly_[a-z]{8}'''

    [[rules]]
    id = "disabled-one"
    regex = '''gone_[a-z]{8}'''
    """#

    @Test("path: own rules are appended, base rules kept, disabledRules removed, allowlists concatenated")
    func extendPath() throws {
        try withTemporaryDirectory { dir in
            let basePath = try write(Self.base, to: dir, "base.toml")
            let child = """
            [extend]
            path = "\(basePath)"
            disabledRules = ["disabled-one", "not-a-rule"]

            [[allowlists]]
            description = "child global"
            stopwords = ["childstop"]
            """ + rule("child-only")
            let childPath = try write(child, to: dir, "child.toml")
            let set = try ConfigLoader.load(path: childPath)
            #expect(set.rules.map(\.id) == ["shared", "base-only", "child-only"])
            #expect(set.allowlists.map(\.description) == ["base global", "child global"])
            #expect(set.title == "base")
            #expect(set.source == childPath)
        }
    }

    @Test("overriding a rule by id merges the attributes it sets and appends its allowlists")
    func overrideMerges() throws {
        try withTemporaryDirectory { dir in
            let basePath = try write(Self.base, to: dir, "base.toml")
            let child = #"""
            title = "child"
            [extend]
            path = "\#(basePath)"

            [[rules]]
            id = "shared"
            description = "child description"
            keywords = ["Child_"]
              [[rules.allowlists]]
              description = "child allowlist"
              regexes = ['''^child''']
            """#
            let set = try ConfigLoader.load(path: try write(child, to: dir, "child.toml"))
            let r = try #require(set.rule(id: "shared"))
            #expect(set.rules.filter { $0.id == "shared" }.count == 1)
            #expect(set.rules.first?.id == "shared", "an overridden rule keeps its position")
            #expect(r.description == "child description")
            #expect(r.keywords == ["child_"])
            // Not set by the child: kept from the base.
            #expect(r.regex == "base_[a-z]{8}")
            #expect(r.entropy == 2.5)
            #expect(r.secretGroup == 0)
            #expect(r.tags == ["base"])
            #expect(r.path == #"\.txt$"#)
            #expect(r.allowlists.map(\.description) == ["base allowlist", "child allowlist"])
            #expect(set.title == "child")
        }
    }

    @Test("a new rule (not an override) in an extending config still needs a regex or a path")
    func newRuleWithoutRegex() throws {
        try withTemporaryDirectory { dir in
            let basePath = try write(Self.base, to: dir, "base.toml")
            let child = "[extend]\npath = \"\(basePath)\"\n[[rules]]\nid = \"brand-new\"\nkeywords = [\"x\"]\n"
            let childPath = try write(child, to: dir, "child.toml")
            let error = configError { try ConfigLoader.load(path: childPath) }
            #expect(error?.ruleID == "brand-new")
            #expect(error?.file == childPath)
        }
    }

    @Test("an override that sets regex, entropy, secretGroup, tags and path replaces them")
    func overrideReplaces() throws {
        try withTemporaryDirectory { dir in
            let basePath = try write(Self.base, to: dir, "base.toml")
            let child = #"""
            [extend]
            path = "\#(basePath)"
            [[rules]]
            id = "shared"
            regex = '''(new_[a-z]{8})'''
            secretGroup = 1
            entropy = 1
            tags = ["new"]
            path = '''\.md$'''
            """#
            let r = try #require(ConfigLoader.load(path: try write(child, to: dir, "child.toml")).rule(id: "shared"))
            #expect(r.regex == "(new_[a-z]{8})")
            #expect(r.secretGroup == 1)
            #expect(r.entropy == 1)
            #expect(r.tags == ["new"])
            #expect(r.path == #"\.md$"#)
            #expect(r.description == "base description")
        }
    }

    @Test("an override may set a checksum or skipReport on a base rule")
    func overrideChecksum() throws {
        try withTemporaryDirectory { dir in
            let basePath = try write(Self.base, to: dir, "base.toml")
            let child = """
            [extend]
            path = "\(basePath)"
            [[rules]]
            id = "base-only"
            checksum = "github"
            skipReport = true
            """
            let r = try #require(ConfigLoader.load(path: try write(child, to: dir, "child.toml")).rule(id: "base-only"))
            #expect(r.checksum == "github")
            #expect(r.skipReport)
        }
    }

    @Test("a relative [extend] path resolves against the current directory, as in gitleaks")
    func relativePath() throws {
        try withTemporaryDirectory { dir in
            let basePath = try write(Self.base, to: dir, "base.toml")
            let relative = relativeFromCurrentDirectory(basePath)
            #expect(!relative.hasPrefix("/"))
            let set = try ConfigLoader.parse("[extend]\npath = \"\(relative)\"\n" + rule("own"), source: "inline")
            #expect(set.rules.map(\.id).contains("base-only"))
            #expect(set.rules.last?.id == "own")
        }
    }

    @Test("depth: two levels of [extend] load; a third is an error")
    func depthLimit() throws {
        try withTemporaryDirectory { dir in
            let level3 = try write(rule("l3"), to: dir, "l3.toml")
            let level2 = try write("[extend]\npath = \"\(level3)\"\n" + rule("l2"), to: dir, "l2.toml")
            let level1 = try write("[extend]\npath = \"\(level2)\"\n" + rule("l1"), to: dir, "l1.toml")
            #expect(try ConfigLoader.load(path: level1).rules.map(\.id) == ["l3", "l2", "l1"])

            let level0 = try write("[extend]\npath = \"\(level1)\"\n" + rule("l0"), to: dir, "l0.toml")
            let error = configError { try ConfigLoader.load(path: level0) }
            #expect(error?.reason.contains("deeper") == true)
            #expect(error?.file == level2, "the error names the file whose [extend] goes too deep")
        }
    }

    @Test("an [extend] cycle stops at the depth limit instead of recursing forever")
    func cycle() throws {
        try withTemporaryDirectory { dir in
            let a = dir + "/a.toml", b = dir + "/b.toml"
            try write("[extend]\npath = \"\(b)\"\n" + rule("a"), to: dir, "a.toml")
            try write("[extend]\npath = \"\(a)\"\n" + rule("b"), to: dir, "b.toml")
            #expect(configError { try ConfigLoader.load(path: a) } != nil)
        }
    }

    @Test("useDefault and path together is an error")
    func bothIsError() {
        let error = configError { try ConfigLoader.parse("[extend]\nuseDefault = true\npath = \"x.toml\"\n", source: "both.toml") }
        #expect(error?.file == "both.toml")
        #expect(error?.reason.contains("not both") == true)
    }

    @Test("a missing [extend] path is an error naming that path")
    func missingBase() {
        let error = configError { try ConfigLoader.parse("[extend]\npath = \"/nonexistent/base.toml\"\n", source: "c.toml") }
        #expect(error?.file == "/nonexistent/base.toml")
    }

    @Test("an [extend] table without useDefault or path leaves the config alone; useDefault = false too")
    func inertExtend() throws {
        #expect(try ConfigLoader.parse("[extend]\ndisabledRules = [\"x\"]\n" + rule("own"), source: "c").rules.map(\.id) == ["own"])
        #expect(try ConfigLoader.parse("[extend]\nuseDefault = false\n" + rule("own"), source: "c").rules.map(\.id) == ["own"])
    }

    @Test("useDefault = true: built-in rules and allowlists first, own rules after, disabledRules applied")
    func useDefault() throws {
        let builtIn = try ConfigLoader.builtIn()
        let disabled = builtIn.rules.first?.id ?? "none"
        let set = try ConfigLoader.parse("""
        [extend]
        useDefault = true
        disabledRules = ["\(disabled)"]
        """ + rule("zz-own-rule"), source: "user.toml")
        #expect(set.rules.map(\.id) == builtIn.rules.map(\.id).filter { $0 != disabled } + ["zz-own-rule"])
        #expect(set.allowlists == builtIn.allowlists)
        #expect(set.source == "user.toml")
    }
}

import Foundation
import Testing
@testable import Rules

/// `ConfigLoader.resolve`: explicit > SEALANT_CONFIG > .sealant.toml > .gitleaks.toml at the scan root > built-in.
@Suite("Config lookup order")
struct ResolveTests {
    /// A scan root holding all four candidate configurations, each identifiable by its only rule.
    static func setUp(_ dir: String) throws -> (explicit: String, env: String, root: String) {
        let explicit = try write(rule("from-explicit"), to: dir, "explicit.toml")
        let env = try write(rule("from-env"), to: dir, "env/config.toml")
        let root = dir + "/repo"
        try write(rule("from-sealant-toml"), to: root, ".sealant.toml")
        try write(rule("from-gitleaks-toml"), to: root, ".gitleaks.toml")
        try write("x", to: root, "src/file.txt")
        return (explicit, env, root)
    }

    static func ids(_ set: RuleSet) -> [String] { set.rules.map(\.id) }

    @Test("each level wins over every level below it")
    func order() throws {
        try withTemporaryDirectory { dir in
            let p = try Self.setUp(dir)
            let env = ["SEALANT_CONFIG": p.env]
            #expect(Self.ids(try ConfigLoader.resolve(explicitPath: p.explicit, scanRoot: p.root, environment: env)) == ["from-explicit"])
            #expect(Self.ids(try ConfigLoader.resolve(explicitPath: nil, scanRoot: p.root, environment: env)) == ["from-env"])
            #expect(Self.ids(try ConfigLoader.resolve(explicitPath: nil, scanRoot: p.root, environment: [:])) == ["from-sealant-toml"])
            try FileManager.default.removeItem(atPath: p.root + "/.sealant.toml")
            #expect(Self.ids(try ConfigLoader.resolve(explicitPath: nil, scanRoot: p.root, environment: [:])) == ["from-gitleaks-toml"])
            try FileManager.default.removeItem(atPath: p.root + "/.gitleaks.toml")
            let fallback = try ConfigLoader.resolve(explicitPath: nil, scanRoot: p.root, environment: [:])
            #expect(fallback == (try ConfigLoader.builtIn()))
            #expect(fallback.source == "built-in")
        }
    }

    @Test("an empty SEALANT_CONFIG is ignored; other variables are not consulted")
    func emptyEnvironment() throws {
        try withTemporaryDirectory { dir in
            let p = try Self.setUp(dir)
            let env = ["SEALANT_CONFIG": "", "GITLEAKS_CONFIG": p.env]
            #expect(Self.ids(try ConfigLoader.resolve(explicitPath: nil, scanRoot: p.root, environment: env)) == ["from-sealant-toml"])
        }
    }

    @Test("a scan root that is a file uses the file's directory")
    func fileScanRoot() throws {
        try withTemporaryDirectory { dir in
            let p = try Self.setUp(dir)
            try FileManager.default.removeItem(atPath: p.root + "/.sealant.toml")
            try write(rule("from-src"), to: p.root + "/src", ".sealant.toml")
            let set = try ConfigLoader.resolve(explicitPath: nil, scanRoot: p.root + "/src/file.txt", environment: [:])
            #expect(Self.ids(set) == ["from-src"])
            #expect(set.source == p.root + "/src/.sealant.toml")
        }
    }

    @Test("config files are looked up at the scan root only, not in parents or children")
    func onlyAtRoot() throws {
        try withTemporaryDirectory { dir in
            try write(rule("parent"), to: dir, ".sealant.toml")
            try write(rule("child"), to: dir + "/root/sub", ".sealant.toml")
            let set = try ConfigLoader.resolve(explicitPath: nil, scanRoot: dir + "/root", environment: [:])
            #expect(set.source == "built-in")
        }
    }

    @Test("no scan root and no explicit path gives the built-in rules")
    func noRoot() throws {
        #expect(try ConfigLoader.resolve(explicitPath: nil, scanRoot: nil, environment: [:]).source == "built-in")
    }

    @Test("a broken explicit or environment config is an error, not a silent fallback")
    func brokenIsAnError() throws {
        try withTemporaryDirectory { dir in
            let p = try Self.setUp(dir)
            #expect(configError { try ConfigLoader.resolve(explicitPath: dir + "/missing.toml", scanRoot: p.root, environment: [:]) }?.file == dir + "/missing.toml")
            let broken = try write("[[rules]\n", to: dir, "broken.toml")
            #expect(configError { try ConfigLoader.resolve(explicitPath: nil, scanRoot: p.root, environment: ["SEALANT_CONFIG": broken]) }?.file == broken)
            try write("[[rules]]\nid = 1\n", to: p.root, ".sealant.toml")
            #expect(configError { try ConfigLoader.resolve(explicitPath: nil, scanRoot: p.root, environment: [:]) } != nil)
        }
    }
}

import Foundation
import Testing
import Rules
@testable import Detection

/// The on-disk cache of compiled Vectorscan databases.
@Suite("Database cache")
struct DatabaseCacheTests {
    static let rules = """
    [[rules]]
    id = "one"
    regex = '''one_[A-Za-z0-9]{16}'''
    keywords = ["one_"]
    [[rules]]
    id = "two"
    regex = '''two_[A-Za-z0-9]{16}'''
    """

    static func cacheFiles(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("db-") && $0.hasSuffix(".hs") }.sorted()
    }

    static func inode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
    }

    static let text = "a one_\(highEntropyBase62(16)) b two_\(highEntropyBase62(16))"

    @Test("the first detector writes the database; a second one loads it without rewriting it")
    func storeThenLoad() throws {
        try withTemporaryDirectory { dir in
            let cache = DatabaseCache(directory: dir + "/nested/cache")
            let first = try makeDetector(Self.rules, cache: cache)
            let files = Self.cacheFiles(cache.directory)
            #expect(files.count == 1)
            let path = cache.directory + "/" + (files.first ?? "")
            let inode = try Self.inode(path)
            let expected = first.makeScanner().scan(Self.text).map(Hit.init).sorted()
            #expect(expected.count == 2)

            let second = try makeDetector(Self.rules, cache: cache)
            #expect(Self.cacheFiles(cache.directory) == files)
            #expect(try Self.inode(path) == inode, "a cache hit must not rewrite the file")
            #expect(second.makeScanner().scan(Self.text).map(Hit.init).sorted() == expected)
            // No temp files are left behind: the database and the remembered rule analysis only.
            let entries = try FileManager.default.contentsOfDirectory(atPath: cache.directory).sorted()
            #expect(entries.count == 2)
            #expect(entries.allSatisfy { ($0.hasPrefix("db-") && $0.hasSuffix(".hs")) || ($0.hasPrefix("stages-") && $0.hasSuffix(".tsv")) })
        }
    }

    @Test("with the rule set's stage table, a detector compiles regexes on first use and finds the same")
    func deferredCompilation() throws {
        try withTemporaryDirectory { dir in
            let cache = DatabaseCache(directory: dir)
            let first = try makeDetector(Self.rules, cache: cache)
            #expect(first.rules.allSatisfy { $0.regex?.isCompiled == true }, "no table yet: every regex is checked up front")
            let expected = first.makeScanner().scan(Self.text).map(Hit.init).sorted()
            let second = try makeDetector(Self.rules, cache: cache)
            #expect(second.rules.allSatisfy { $0.regex?.isCompiled == false })
            #expect(second.makeScanner().scan(Self.text).map(Hit.init).sorted() == expected)
            #expect(second.rules.allSatisfy { $0.regex?.isCompiled == true }, "both rules had candidates")
        }
    }

    @Test("an allowlist or path regex edited to something PCRE2 refuses is still reported, cache or not")
    func editedAllowlistIsCheckedAgain() throws {
        let good = Self.rules + """

        [[rules.allowlists]]
        regexes = ['''^two_0+$''']
        """
        try withTemporaryDirectory { dir in
            let cache = DatabaseCache(directory: dir)
            _ = try makeDetector(good, cache: cache)
            _ = try makeDetector(good, cache: cache)
            for broken in [good.replacingOccurrences(of: "^two_0+$", with: "^two_(0+$"),
                           good + "\n[[allowlists]]\npaths = ['''(unclosed''']\n"] {
                #expect(throws: RuleCompileError.self) { try makeDetector(broken, cache: cache) }
            }
        }
    }

    @Test("the cached database is what the second detector actually uses")
    func loadsFromCache() throws {
        try withTemporaryDirectory { dir in
            let cache = DatabaseCache(directory: dir)
            _ = try makeDetector(Self.rules, cache: cache)
            let path = dir + "/" + (Self.cacheFiles(dir).first ?? "")
            // Swap in a database compiled from patterns that never match: a detector that loads
            // the cache (rather than recompiling) finds nothing.
            let never = try ruleSet(Self.rules.replacingOccurrences(of: "one_", with: "zq1_").replacingOccurrences(of: "two_", with: "zq2_"))
            let otherDir = dir + "/other"
            _ = try Detector(ruleSet: never, cache: DatabaseCache(directory: otherDir))
            let otherFile = otherDir + "/" + (Self.cacheFiles(otherDir).first ?? "")
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: otherFile, toPath: path)
            let fooled = try makeDetector(Self.rules, cache: cache)
            #expect(fooled.makeScanner().scan(Self.text).isEmpty)
        }
    }

    @Test("a corrupted or truncated cache file is ignored, rebuilt, and results are unchanged",
          arguments: ["garbage", "truncated", "empty"])
    func corruptCache(kind: String) throws {
        try withTemporaryDirectory { dir in
            let cache = DatabaseCache(directory: dir)
            let expected = try makeDetector(Self.rules, cache: cache).makeScanner().scan(Self.text).map(Hit.init).sorted()
            let path = dir + "/" + (Self.cacheFiles(dir).first ?? "")
            let good = try Data(contentsOf: URL(fileURLWithPath: path))
            let bad: Data
            switch kind {
            case "garbage": bad = Data((0..<good.count).map { _ in UInt8.random(in: 0...255) })
            case "truncated": bad = good.prefix(good.count / 2)
            default: bad = Data()
            }
            try bad.write(to: URL(fileURLWithPath: path))
            let rebuilt = try makeDetector(Self.rules, cache: cache)
            #expect(rebuilt.makeScanner().scan(Self.text).map(Hit.init).sorted() == expected)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == good, "the entry is rewritten with a valid database")
        }
    }

    @Test("different rules use different cache entries")
    func keyCoversPatterns() throws {
        try withTemporaryDirectory { dir in
            let cache = DatabaseCache(directory: dir)
            _ = try makeDetector(Self.rules, cache: cache)
            _ = try makeDetector(Self.rules.replacingOccurrences(of: "{16}", with: "{17}"), cache: cache)
            _ = try makeDetector(Self.rules, cache: cache)
            #expect(Self.cacheFiles(dir).count == 2)
        }
    }

    @Test("an unwritable cache directory only costs speed")
    func unwritable() throws {
        try withTemporaryDirectory { dir in
            let blocker = dir + "/file"
            try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
            let detector = try makeDetector(Self.rules, cache: DatabaseCache(directory: blocker + "/cache"))
            #expect(detector.makeScanner().scan(Self.text).count == 2)
        }
    }

    @Test("standard location follows XDG_CACHE_HOME, then HOME")
    func standardLocation() {
        #expect(DatabaseCache.standard(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"])?.directory == "/x/cache/sealant")
        #expect(DatabaseCache.standard(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/home/u"])?.directory == "/home/u/.cache/sealant")
        #expect(DatabaseCache.standard(environment: ["HOME": "/home/u"])?.directory == "/home/u/.cache/sealant")
        #expect(DatabaseCache.standard(environment: [:]) == nil)
    }

    @Test("the cache keeps the most recently used databases: older entries and stale temp files are pruned on write")
    func pruning() throws {
        try withTemporaryDirectory { dir in
            let cache = DatabaseCache(directory: dir)
            let manager = FileManager.default
            let old = Date().addingTimeInterval(-86_400)
            // Stale entries from earlier rule sets, all older than anything written now.
            for index in 0..<(DatabaseCache.keptEntries + 4) {
                let path = dir + "/db-stale\(index).hs"
                #expect(manager.createFile(atPath: path, contents: Data([1, 2, 3])))
                try manager.setAttributes([.modificationDate: old.addingTimeInterval(Double(index))], ofItemAtPath: path)
            }
            let temp = dir + "/.tmp-1-interrupted"
            #expect(manager.createFile(atPath: temp, contents: Data([0])))
            try manager.setAttributes([.modificationDate: old], ofItemAtPath: temp)

            _ = try makeDetector(Self.rules, cache: cache)
            let files = Self.cacheFiles(dir)
            #expect(files.count == DatabaseCache.keptEntries)
            #expect(files.contains { !$0.hasPrefix("db-stale") }, "the database just written is kept")
            // The newest stale ones survive, the oldest go.
            #expect(files.contains("db-stale\(DatabaseCache.keptEntries + 3).hs"))
            #expect(!files.contains("db-stale0.hs"))
            #expect(!manager.fileExists(atPath: temp))
        }
    }
}

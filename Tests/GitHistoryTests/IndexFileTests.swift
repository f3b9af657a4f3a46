import Foundation
@testable import GitHistory
import Testing

/// The index reader itself: every layout git writes for an ordinary work tree is read (not left to
/// libgit2), with the same paths, ids and modes in each.
@Suite("Index file reader")
struct IndexFileTests {
    @Test func versionsTwoThreeAndFourReadTheSameEntries() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sealant-index-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try StagedIndexTests.git(["init", "-q"], in: root)
        // Shared prefixes of every length (what version 4 compresses), a long name, nested folders.
        let paths = ["a", "a-b", "a/b", "a/b/c.txt", "a/b/cd.txt", "a/bc/d.txt", "b.txt", "dir/" + String(repeating: String(repeating: "n", count: 200) + "/", count: 3) + "f.txt",
                     "dir/x/y/z/deep.txt", "z"]
        for (n, path) in paths.enumerated() where path != "a" && path != "a/b" {
            try StagedIndexTests.write("content \(n)\n", path, in: root)
        }
        try StagedIndexTests.git(["add", "-A"], in: root)
        try StagedIndexTests.git(["update-index", "--chmod=+x", "b.txt"], in: root)

        var seen: [[String]] = []
        for version in ["2", "3", "4"] {
            try StagedIndexTests.git(["update-index", "--index-version", version], in: root)
            let index = try #require(IndexFile.read(path: root + "/.git/index"), "version \(version) is read here")
            // (git writes version 3 as 2 when no entry needs extended flags.)
            let written = index.bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).bigEndian
            #expect(written == UInt32(version)! || (version == "3" && written == 2))
            #expect(!index.hasUnmergedEntries)
            seen.append(index.entries.map { entry in
                "\(String(decoding: index.path(of: entry), as: UTF8.self)) \(String(index.mode(of: entry), radix: 8)) \(index.id(of: entry))"
            })
        }
        #expect(seen[0].count == paths.count - 2)
        #expect(seen[0].map { $0.split(separator: " ")[0] } == paths.filter { $0 != "a" && $0 != "a/b" }.map { Substring($0) })
        #expect(seen[0].contains { $0.hasPrefix("b.txt 100755 ") })
        #expect(seen[1] == seen[0])
        #expect(seen[2] == seen[0])
    }

    @Test func damagedVersionFourIsLeftToLibgit2() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sealant-index-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try StagedIndexTests.git(["init", "-q"], in: root)
        for name in ["alpha.txt", "alpine.txt", "beta.txt"] { try StagedIndexTests.write("x\n", name, in: root) }
        try StagedIndexTests.git(["add", "-A"], in: root)
        try StagedIndexTests.git(["update-index", "--index-version", "4"], in: root)
        let good = try Data(contentsOf: URL(fileURLWithPath: root + "/.git/index"))
        #expect(IndexFile.read(path: root + "/.git/index") != nil)
        // The second entry strips more of the previous path than it has; then a cut-off file.
        let second = 12 + 62 + "alpha.txt".utf8.count + 2  // header, first entry (strip byte, name, NUL)
        var damaged = good
        damaged[second + 62] = 0x7f
        try damaged.write(to: URL(fileURLWithPath: root + "/.git/index"))
        #expect(IndexFile.read(path: root + "/.git/index") == nil)
        try good.prefix(good.count - 30).write(to: URL(fileURLWithPath: root + "/.git/index"))
        #expect(IndexFile.read(path: root + "/.git/index") == nil)
    }

    @Test func splitIndexIsNamedNotCalledCorrupt() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sealant-index-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try StagedIndexTests.git(["init", "-q"], in: root)
        try StagedIndexTests.write("x\n", "a.txt", in: root)
        try StagedIndexTests.git(["add", "-A"], in: root)
        try StagedIndexTests.git(["update-index", "--split-index"], in: root)
        do {
            _ = try scanDiffs(try GitRepository(discoveringFrom: root), .staged)
            Issue.record("a split index was read")
        } catch let error as GitHistoryError {
            #expect(error.description.contains("split index (core.splitIndex)"))
            #expect(error.description.contains("git update-index --no-split-index"))
        }
    }
}

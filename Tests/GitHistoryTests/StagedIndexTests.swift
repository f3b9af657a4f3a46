import Foundation
import GitHistory
import Testing

/// The staged scan's own index reader (versions 2, 3 and 4, cache-tree skipping) against libgit2's
/// diff, which it falls back to for entries it does not read (a skip-worktree entry here): both
/// must see the same added lines.
@Suite("Staged changes read from the index file")
struct StagedIndexTests {
    static func git(_ arguments: [String], in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.invalid", "-c", "commit.gpgsign=false",
                             "-c", "init.defaultBranch=main"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "git \(arguments.joined(separator: " "))")
    }

    static func write(_ text: String, _ path: String, in root: String) throws {
        let url = URL(fileURLWithPath: root).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// (path, added line numbers and text) per unit, in order.
    static func staged(_ root: String) throws -> [String] {
        let (units, _) = try scanDiffs(try GitRepository(discoveringFrom: root), .staged)
        return units.map { unit in
            unit.path.description + " " + unit.addedLines.map { "\($0.number):\($0.text)" }.joined(separator: ",")
        }.sorted()
    }

    @Test func nestedChangesMatchLibgit2() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sealant-staged-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.git(["init", "-q"], in: root)
        for dir in ["a/b/c", "a/b", "a", "d", "e/f", ""] {
            for n in 0..<5 {
                try Self.write((1...5).map { "line \($0) of \(n)" }.joined(separator: "\n") + "\n", (dir.isEmpty ? "" : dir + "/") + "f\(n).txt", in: root)
            }
        }
        try Self.git(["add", "-A"], in: root)
        try Self.git(["commit", "-qm", "first"], in: root)

        try Self.write("line 1 of 2\nNEW A\nline 2 of 2\nline 3 of 2\nline 4 of 2\nline 5 of 2\nNEW B\n", "a/b/c/f2.txt", in: root)
        try Self.write("brand new\n", "a/b/new.txt", in: root)
        try Self.write("deep\nnew\n", "x/y/z/new.txt", in: root)
        try Self.write("top\n", "a-sibling.txt", in: root)
        try Self.write("line 1 of 0\nchanged\n", "e/f/f0.txt", in: root)
        try Self.git(["add", "-A"], in: root)
        try Self.git(["update-index", "--chmod=+x", "d/f1.txt"], in: root)

        let fast = try Self.staged(root)
        #expect(fast == [
            "a-sibling.txt 1:top",
            "a/b/c/f2.txt 2:NEW A,7:NEW B",
            "a/b/new.txt 1:brand new",
            "e/f/f0.txt 2:changed",
            "x/y/z/new.txt 1:deep,2:new",
        ])
        // Index version 4 (prefix-compressed paths), and an entry flagged skip-worktree (left to
        // libgit2): same answer.
        try Self.git(["update-index", "--index-version", "4"], in: root)
        #expect(try Self.staged(root) == fast)
        try Self.git(["update-index", "--skip-worktree", "f0.txt"], in: root)
        #expect(try Self.staged(root) == fast)
        try Self.git(["update-index", "--no-skip-worktree", "f0.txt"], in: root)

        // A deletion next to an addition may be a rename: libgit2 decides, so a moved file adds nothing.
        try Self.git(["update-index", "--index-version", "2"], in: root)
        try FileManager.default.createDirectory(atPath: root + "/moved", withIntermediateDirectories: true)
        try Self.git(["mv", "d/f3.txt", "moved/f3.txt"], in: root)
        #expect(try Self.staged(root) == fast)
    }

    /// Staged changes read through the index file and through libgit2 (made to by a skip-worktree
    /// entry on an unchanged file, which this reader leaves to libgit2): the two must agree.
    static func stagedBothWays(_ root: String, unchanged: String) throws -> (fast: [String], libgit2: [String]) {
        let fast = try staged(root)
        try git(["update-index", "--skip-worktree", unchanged], in: root)
        let slow = try staged(root)
        try git(["update-index", "--no-skip-worktree", unchanged], in: root)
        #expect(try staged(root) == fast)
        return (fast, slow)
    }

    @Test func renamesAgreeWithLibgit2() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sealant-staged-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.git(["init", "-q"], in: root)
        for dir in ["a/b", "c", "d"] {
            for n in 0..<4 {
                try Self.write((1...8).map { "line \($0) of \(dir) \(n)" }.joined(separator: "\n") + "\n", "\(dir)/f\(n).txt", in: root)
            }
        }
        try Self.write("", "empty.txt", in: root)
        try Self.git(["add", "-A"], in: root)
        try Self.git(["commit", "-qm", "first"], in: root)

        // A whole directory moved, and an empty file moved: nothing is added.
        try Self.git(["mv", "a/b", "a/moved"], in: root)
        try Self.git(["mv", "empty.txt", "c/empty.txt"], in: root)
        var seen = try Self.stagedBothWays(root, unchanged: "c/f0.txt")
        #expect(seen.fast == [])
        #expect(seen.fast == seen.libgit2)

        // Plus a moved file edited after the move: an edited rename adds only the new line.
        try Self.git(["mv", "c/f1.txt", "c/g1.txt"], in: root)
        try Self.write((1...8).map { "line \($0) of c 1" }.joined(separator: "\n") + "\nappended\n", "c/g1.txt", in: root)
        try Self.git(["add", "-A"], in: root)
        seen = try Self.stagedBothWays(root, unchanged: "c/f0.txt")
        #expect(seen.fast == ["c/g1.txt 9:appended"])
        #expect(seen.fast == seen.libgit2)

        // Plus a deleted file and an unrelated new one, and a second copy of a moved file's content.
        try Self.git(["reset", "-q", "--hard"], in: root)
        try Self.git(["rm", "-q", "d/f2.txt"], in: root)
        try Self.write("unrelated\n", "d/new.txt", in: root)
        try Self.git(["mv", "d/f3.txt", "d/g3.txt"], in: root)
        try FileManager.default.copyItem(atPath: root + "/d/g3.txt", toPath: root + "/d/h3.txt")
        try Self.git(["add", "-A"], in: root)
        seen = try Self.stagedBothWays(root, unchanged: "c/f0.txt")
        #expect(seen.fast.contains("d/new.txt 1:unrelated"))
        #expect(seen.fast == seen.libgit2)
    }
}

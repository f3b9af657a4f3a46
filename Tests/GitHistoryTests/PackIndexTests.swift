import Foundation
@testable import GitHistory
import Testing

/// The pack index reader against git's own `show-index`, for index versions 1 and 2 (with and
/// without the 64-bit offset table), and a history scan of the same repository loose and packed.
@Suite("Pack index and pack-ordered reading")
struct PackIndexTests {
    /// Runs git in `directory`; stdout as text. `input` is a file fed on stdin.
    @discardableResult
    static func git(_ arguments: [String], in directory: String, input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.invalid", "-c", "commit.gpgsign=false",
                             "-c", "init.defaultBranch=main"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        if let input { process.standardInput = FileHandle(forReadingAtPath: input) }
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "git \(arguments.joined(separator: " "))")
        return String(decoding: data, as: UTF8.self)
    }

    /// A repository whose files change over 30 commits (so the pack holds deltas), left loose.
    static func makeRepository() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sealant-pack-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try git(["init", "-q"], in: root)
        var lines = (0..<200).map { "line \($0) of a file that changes a little in every commit" }
        for commit in 0..<30 {
            lines[(commit * 7) % lines.count] = "changed in commit \(commit): \(UUID().uuidString)"
            try lines.joined(separator: "\n").write(toFile: root + "/a.txt", atomically: true, encoding: .utf8)
            try "file b, version \(commit % 5)\n".write(toFile: root + "/b.txt", atomically: true, encoding: .utf8)
            try git(["add", "-A"], in: root)
            try git(["commit", "-q", "-m", "commit \(commit)"], in: root)
        }
        return root
    }

    /// (offset, id) of every object `git show-index` lists for `idx`.
    static func showIndex(_ idx: String, in root: String) throws -> [(UInt64, ObjectID)] {
        try git(["show-index"], in: root, input: idx).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let offset = UInt64(fields[0]), let id = ObjectID(hex: String(fields[1])) else { return nil }
            return (offset, id)
        }
    }

    @Test func offsetsMatchGitForEveryIndexVersion() throws {
        let root = try Self.makeRepository()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.git(["repack", "-adq", "--depth=10"], in: root)
        let packDirectory = root + "/.git/objects/pack"
        let pack = try #require(try FileManager.default.contentsOfDirectory(atPath: packDirectory).first { $0.hasSuffix(".pack") })
        let idx = packDirectory + "/" + pack.replacingOccurrences(of: ".pack", with: ".idx")
        let expected = try Self.showIndex(idx, in: root)
        #expect(expected.count > 90)

        // Version 2 as git wrote it; version 1; version 2 with every offset past 64 in the 64-bit table.
        var variants = [("as written", root + "/.git/objects")]
        for (name, option) in [("v1", "--index-version=1"), ("v2-large", "--index-version=2,64")] {
            let objects = root + "/" + name
            try FileManager.default.createDirectory(atPath: objects + "/pack", withIntermediateDirectories: true)
            try Self.git(["index-pack", option, "-o", objects + "/pack/x.idx", packDirectory + "/" + pack], in: root)
            variants.append((name, objects))
        }
        for (name, objects) in variants {
            let index = PackIndex(objectsDirectory: objects)
            #expect(index.objectCount == expected.count, "\(name)")
            for (offset, id) in expected {
                #expect(index.location(of: id) == PackIndex.Location(pack: 0, offset: offset), "\(name) \(id)")
            }
            let absent = try #require(ObjectID(hex: String(repeating: "e", count: 40)))
            #expect(index.location(of: absent) == .unpacked)
        }
        // A damaged index is left out, not trusted.
        let broken = root + "/broken/pack"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try Data([0xFF, 0x74, 0x4F, 0x63, 0, 0, 0, 2, 1, 2, 3]).write(to: URL(fileURLWithPath: broken + "/y.idx"))
        #expect(PackIndex(objectsDirectory: root + "/broken").objectCount == 0)
    }

    @Test func packedAndLooseHistoriesScanTheSame() throws {
        let root = try Self.makeRepository()
        defer { try? FileManager.default.removeItem(atPath: root) }
        func units() throws -> [String] {
            try scanBlobs(try GitRepository(discoveringFrom: root), .allRefs, BlobScanOptions(workers: 2)).0.map { unit in
                "\(unit.blobID.map(\.description) ?? "message") \(unit.path) \(unit.commit.id) \(unit.bytes.count)"
            }.sorted()
        }
        let loose = try units()
        try Self.git(["repack", "-adq", "--depth=10"], in: root)
        #expect(PackIndex(objectsDirectory: root + "/.git/objects").objectCount > 90)
        let packed = try units()
        #expect(loose.count == 30 + 30 + 5)
        #expect(packed == loose)
    }
}

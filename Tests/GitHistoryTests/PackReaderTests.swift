import Foundation
@testable import GitHistory
import Testing

/// Sealant's own pack reader against git: every object of packs git wrote (offset deltas, reference
/// deltas, deep chains, a tiny cache) must read back byte for byte as `git cat-file` prints it, and
/// damaged packs must fail cleanly (the scan then asks libgit2).
@Suite("Pack reader")
struct PackReaderTests {
    /// Every object git can read: id → (type number, content), from `git cat-file --batch-all-objects --batch`.
    static func gitObjects(in root: String) throws -> [ObjectID: (type: Int, content: [UInt8])] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "cat-file", "--batch-all-objects", "--batch"]
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let types = ["commit": 1, "tree": 2, "blob": 3, "tag": 4]
        var objects: [ObjectID: (Int, [UInt8])] = [:]
        var position = 0
        while position < data.count {
            guard let newline = data[position...].firstIndex(of: 0x0A) else { break }
            let header = String(decoding: data[position..<newline], as: UTF8.self).split(separator: " ")
            guard header.count == 3, let id = ObjectID(hex: String(header[0])), let type = types[String(header[1])],
                  let size = Int(header[2]) else { break }
            objects[id] = (type, Array(data[(newline + 1)..<(newline + 1 + size)]))
            position = newline + 1 + size + 1
        }
        return objects
    }

    /// A repository with 60 commits of slowly changing files (long delta chains once repacked),
    /// a large file, an empty file and a binary file.
    static func makeRepository() throws -> String {
        let root = try PackIndexTests.makeRepository()
        var big = (0..<4000).map { "row \($0): \(String(repeating: "x", count: $0 % 50))" }
        for commit in 0..<30 {
            big[(commit * 131) % big.count] = "edited in \(commit)"
            try big.joined(separator: "\n").write(toFile: root + "/big.txt", atomically: true, encoding: .utf8)
            try Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 * (commit + 3)) }).write(to: URL(fileURLWithPath: root + "/bin.dat"))
            if commit == 0 { FileManager.default.createFile(atPath: root + "/empty", contents: Data()) }
            try PackIndexTests.git(["add", "-A"], in: root)
            try PackIndexTests.git(["commit", "-q", "-m", "more \(commit)"], in: root)
        }
        return root
    }

    /// `makeRepository()` repacked with `repack` plus `options`, and git's view of every object.
    static func packedRepository(_ options: [String] = ["--depth=50"], config: [String] = []) throws
        -> (root: String, expected: [ObjectID: (type: Int, content: [UInt8])]) {
        let root = try makeRepository()
        try PackIndexTests.git(config + ["repack", "-adfq"] + options, in: root)
        return (root, try gitObjects(in: root))
    }

    /// Reads every object the packs index with a fresh reader and compares it with git's.
    static func compareAll(objects directory: String, with expected: [ObjectID: (type: Int, content: [UInt8])],
                           cacheBudget: Int = 64 << 20) throws -> Int {
        let index = PackIndex(objectsDirectory: directory)
        let store = PackStore(index: index, cacheBudget: cacheBudget)
        let reader = store.makeReader()
        var read = 0
        // Pack order and its reverse: the second pass finds bases evicted or never cached.
        let ids = expected.keys.filter { index.location(of: $0) != .unpacked }.sorted { index.location(of: $0) < index.location(of: $1) }
        for id in ids + ids.reversed() {
            guard case .object(let object) = try reader.read(index.location(of: id), maxSize: nil) else {
                Issue.record("\(id) reported oversized without a limit")
                continue
            }
            let want = try #require(expected[id])
            #expect(object.type == want.type, "\(id)")
            #expect(object.bytes.elementsEqual(want.content), "\(id)")
            read += 1
        }
        return read
    }

    /// Counts the deltas `git verify-pack -v` lists (lines with a chain depth).
    static func deltaCount(in root: String) throws -> Int {
        let pack = root + "/.git/objects/pack"
        let idx = try #require(try FileManager.default.contentsOfDirectory(atPath: pack).first { $0.hasSuffix(".idx") })
        return try PackIndexTests.git(["verify-pack", "-v", pack + "/" + idx], in: root).split(separator: "\n")
            .filter { $0.split(separator: " ", omittingEmptySubsequences: true).count >= 7 }.count
    }

    @Test("offset deltas with deep chains read back as git prints them, with a large cache and with almost none")
    func offsetDeltas() throws {
        let (root, expected) = try Self.packedRepository(["--depth=50", "--window=50"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try Self.deltaCount(in: root) > 50)
        #expect(expected.count > 180)
        #expect(try Self.compareAll(objects: root + "/.git/objects", with: expected) == 2 * expected.count)
        #expect(try Self.compareAll(objects: root + "/.git/objects", with: expected, cacheBudget: 1024) == 2 * expected.count)
    }

    @Test("reference deltas (base named by id) read back as git prints them")
    func referenceDeltas() throws {
        let (root, expected) = try Self.packedRepository(config: ["-c", "repack.useDeltaBaseOffset=false"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Type 7 entries (REF_DELTA) are in the pack: its first delta's header byte says so.
        let pack = root + "/.git/objects/pack"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: pack).first { $0.hasSuffix(".pack") })
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: pack + "/" + name)))
        let index = PackIndex(objectsDirectory: root + "/.git/objects")
        let offsets = index.sortedOffsets(0)
        #expect(offsets.contains { (bytes[Int($0)] >> 4) & 7 == 7 })
        #expect(!offsets.contains { (bytes[Int($0)] >> 4) & 7 == 6 })
        #expect(try Self.compareAll(objects: root + "/.git/objects", with: expected) == 2 * expected.count)
    }

    @Test("a clone plus a fetch (two packs, the fetched one completed with --fix-thin) reads back as git prints it")
    func fetchedPacks() throws {
        let source = try Self.makeRepository()
        let clone = source + "-clone"
        defer {
            try? FileManager.default.removeItem(atPath: source)
            try? FileManager.default.removeItem(atPath: clone)
        }
        try PackIndexTests.git(["clone", "-q", "--no-local", source, clone], in: source)
        try PackIndexTests.git(["config", "gc.auto", "0"], in: clone)
        try PackIndexTests.git(["config", "fetch.unpackLimit", "1"], in: clone)   // keep even a small fetch as a pack
        var lines = (0..<300).map { "fetched line \($0)" }
        for commit in 0..<10 {
            lines[commit * 17] = "changed after the clone, commit \(commit)"
            try lines.joined(separator: "\n").write(toFile: source + "/a.txt", atomically: true, encoding: .utf8)
            try PackIndexTests.git(["commit", "-qam", "after clone \(commit)"], in: source)
        }
        try PackIndexTests.git(["fetch", "-q", "origin"], in: clone)
        let index = PackIndex(objectsDirectory: clone + "/.git/objects")
        #expect(index.packCount == 2)
        let expected = try Self.gitObjects(in: clone)
        #expect(try Self.compareAll(objects: clone + "/.git/objects", with: expected) == 2 * expected.count)

        // Past the open-pack limit, objects of the older pack are refused (and a scan asks libgit2), the newest are read.
        let reader = PackStore(index: index, maxOpenPacks: 1).makeReader()
        var refused = 0
        for (id, want) in expected {
            let location = index.location(of: id)
            if location.pack == 0 {
                guard case .object(let object) = try reader.read(location, maxSize: nil) else { continue }
                #expect(object.bytes.elementsEqual(want.content), "\(id)")
            } else {
                #expect(throws: PackReadFailure.self) { try reader.read(location, maxSize: nil) }
                refused += 1
            }
        }
        #expect(refused > 0 && refused < expected.count)
    }

    @Test("a size limit reports a delta-built blob as oversized with its real size and type")
    func sizeLimit() throws {
        let (root, expected) = try Self.packedRepository()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let index = PackIndex(objectsDirectory: root + "/.git/objects")
        let reader = PackStore(index: index).makeReader()
        var oversized = 0
        for (id, want) in expected where want.type == 3 {
            switch try reader.read(index.location(of: id), maxSize: 50_000) {
            case .oversized(let type, let size):
                #expect(type == 3 && size == want.content.count && size > 50_000, "\(id)")
                oversized += 1
            case .object(let object):
                #expect(object.count <= 50_000 && object.bytes.elementsEqual(want.content), "\(id)")
            }
        }
        #expect(oversized == 30)   // every version of big.txt
    }

    @Test("damaged packs: every read either fails with a reason or returns git's bytes, and the scan still matches libgit2")
    func damagedPacks() throws {
        let (root, expected) = try Self.packedRepository()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pack = root + "/.git/objects/pack"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: pack).first { $0.hasSuffix(".pack") })
        let path = pack + "/" + name
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        for round in 0..<8 {
            var damaged = [UInt8](original)
            // Overwrite a stretch in the middle (headers and compressed data), or cut the file short.
            if round == 7 {
                damaged.removeLast(damaged.count / 3)
            } else {
                // Spread over the pack, the same places on every run.
                let start = 12 + (round * 2 + 1) * (damaged.count - 100) / 14
                for offset in start..<(start + 24) { damaged[offset] = UInt8(truncatingIfNeeded: offset &* 131 &+ round) }
            }
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            let index = PackIndex(objectsDirectory: root + "/.git/objects")
            let reader = PackStore(index: index, cacheBudget: 1 << 20).makeReader()
            for (id, want) in expected {
                do {
                    if case .object(let object) = try reader.read(index.location(of: id), maxSize: nil), object.type == want.type,
                       !object.bytes.elementsEqual(want.content) {
                        // zlib's checksum and the delta's sizes catch damage; content that slips through must
                        // come from a stretch that was not damaged.
                        Issue.record("round \(round): \(id) read back different bytes without an error")
                    }
                } catch {
                    #expect(!error.description.isEmpty)
                }
            }
            // The scan falls back to libgit2 for what the pack reader cannot read: it ends as a libgit2-only
            // scan does (the same blobs, or an error).
            #expect(Self.scanOutcome(root, direct: true) == Self.scanOutcome(root, direct: false), "round \(round)")
        }
        try original.write(to: URL(fileURLWithPath: path))
    }

    /// What a blob scan delivers (units with a content hash, and the summary's counts), or "error".
    static func scanOutcome(_ root: String, direct: Bool) -> [String] {
        var options = BlobScanOptions(workers: 2, maxBlobSize: 50_000)
        options.readPacksDirectly = direct
        guard let repository = try? GitRepository(discoveringFrom: root),
              let (units, summary) = try? scanBlobs(repository, .allRefs, options) else { return ["error"] }
        let contents = units.map { unit in
            "\(unit.blobID.map(\.description) ?? "message") \(unit.path) \(unit.commit.id) \(unit.bytes.hashValue) \(unit.isBinary)"
        }
        return contents.sorted() + ["oversized \(summary.oversizedBlobs.count) blobs \(summary.blobs) bytes \(summary.bytes)"]
    }

    @Test("a history scan reads the same blobs through the pack reader as through libgit2 alone")
    func scanMatchesLibgit2() throws {
        let (root, _) = try Self.packedRepository()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let direct = Self.scanOutcome(root, direct: true)
        #expect(direct.count > 100)
        #expect(direct == Self.scanOutcome(root, direct: false))
    }
}

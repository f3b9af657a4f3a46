import Foundation
import Testing
@testable import Detection

/// Scanning files while the directory walk is still finding them.
@Suite("Streaming directory scan")
struct ParallelScanTests {
    static let rules = """
    [[rules]]
    id = "one"
    regex = '''one_[A-Za-z0-9]{16}'''
    keywords = ["one_"]
    """

    @Test("findings and files equal a scan of the walked list, for any worker count")
    func streamingEqualsListed() throws {
        try withTemporaryDirectory { dir in
            for i in 0..<120 {
                let sub = dir + "/d\(i % 7)/e\(i % 3)"
                try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
                let body = i % 4 == 0 ? "x = one_\(highEntropyBase62(16))\n" : "nothing here \(i)\n"
                try body.write(toFile: sub + "/f\(i).txt", atomically: true, encoding: .utf8)
            }
            let detector = try makeDetector(Self.rules)
            var walker = FileWalker()
            let listed = try walker.files(under: dir)
            #expect(listed.count == 120)
            let expected = ParallelScan(detector: detector, threads: 2).scan(listed).findings
            #expect(expected.count == 30)
            for threads in [1, 2, 5] {
                var streamWalker = FileWalker()
                let streamed = try ParallelScan(detector: detector, threads: threads).scan(streaming: { emit in
                    try streamWalker.walk(under: dir, emit: emit)
                })
                #expect(streamed.files.map(\.openPath) == listed.map(\.openPath))
                #expect(streamed.findings.map { "\($0.file):\($0.startLine):\($0.secret)" } == expected.map { "\($0.file):\($0.startLine):\($0.secret)" })
                #expect(streamed.stats.units == 120)
            }
        }
    }

    @Test("a walk that fails part-way finishes the files handed out and reports the error")
    func producerErrorIsRethrown() throws {
        struct Stop: Error {}
        try withTemporaryDirectory { dir in
            try "x = one_\(highEntropyBase62(16))\n".write(toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
            let detector = try makeDetector(Self.rules)
            var walker = FileWalker()
            #expect(throws: Stop.self) {
                _ = try ParallelScan(detector: detector, threads: 2).scan(streaming: { emit in
                    try walker.walk(under: dir, emit: emit)
                    throw Stop()
                })
            }
            var missing = FileWalker()
            #expect(throws: FileWalkError.self) {
                _ = try ParallelScan(detector: detector, threads: 2).scan(streaming: { emit in
                    try missing.walk(under: dir + "/absent", emit: emit)
                })
            }
        }
    }

    @Test("file extensions for the binary-type skip, bytewise", arguments: [
        ("a/b/photo.PNG", "png"), ("x.tar.gz", "gz"), ("dir.d/Makefile", ""), (".bashrc", ""), ("a/.env", ""),
        ("a/b.c/", ""), ("noext", ""), ("file.verylongextension", nil),
    ] as [(String, String?)])
    func extensions(path: String, expected: String?) {
        #expect(ParallelScan.lowercasedExtension(of: path) == expected)
    }

    @Test("files found by a walk are opened relative to the walked directory, even after the process moved away from it")
    func openedRelativeToRoot() throws {
        let root = NSTemporaryDirectory() + "sealant-openat-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let token = "tok_" + randomString(Alphabet.lowerDigits, count: 20)
        try Data("key = \(token)\n".utf8).write(to: URL(fileURLWithPath: root + "/sub/a.txt"))
        var walker = FileWalker()
        let files = try walker.files(under: root)
        #expect(files.count == 1)
        #expect(files.first?.root != nil)
        // The root's path no longer leads there: only the open directory does.
        try FileManager.default.moveItem(atPath: root, toPath: root + "-moved")
        defer { try? FileManager.default.removeItem(atPath: root + "-moved") }
        let detector = try makeDetector(singleRule(id: "tok", regex: #"tok_[a-z0-9]{20}"#))
        let result = ParallelScan(detector: detector).scan(files)
        #expect(result.findings.map(\.secret) == [token])
    }
}

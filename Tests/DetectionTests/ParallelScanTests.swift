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
}

import Foundation
import Testing
import Rules
@testable import Detection

/// Line/column reporting (1-based, endColumn inclusive), the `line` field, and chunked scanning.
@Suite("Positions")
struct PositionTests {
    static let rule = singleRule(id: "tk", regex: #"tk_[A-Za-z0-9]{20}"#)

    static func token() -> String { "tk_" + highEntropyBase62(20) }

    @Test("first line, middle line, last line without trailing newline")
    func lines() throws {
        let a = Self.token(), b = Self.token(), c = Self.token()
        let text = "\(a) first\nx\n  mid = \(b);\nlast: \(c)"
        let found = try scan(Self.rule, text).sorted { $0.startLine < $1.startLine }
        #expect(found.map(\.secret) == [a, b, c])
        #expect(found.map { $0.span } == [
            [1, 1, 1, 23],
            [3, 9, 3, 31],
            [4, 7, 4, 29],
        ])
        #expect(found.map(\.line) == ["\(a) first", "  mid = \(b);", "last: \(c)"])
    }

    @Test("positions agree with an independent computation on random placements", arguments: [UInt64(11), 12, 13])
    func randomPlacements(seed: UInt64) throws {
        var g = SeededGenerator(seed: seed)
        var text = ""
        var expected = [(secret: String, offset: Int)]()
        for _ in 0..<200 {
            text += randomString(Array(" .,;:=(){}".utf8) + Alphabet.lower, count: Int.random(in: 0...60, using: &g), using: &g)
            if Bool.random(using: &g) { text += " " }
            if Int.random(in: 0..<3, using: &g) == 0 {
                let t = "tk_" + randomString(Alphabet.base62, count: 20, using: &g)
                text += " "
                expected.append((t, text.utf8.count))
                text += t + " "
            }
            text += ["\n", "\r\n", "\n\n", ""][Int.random(in: 0..<4, using: &g)]
        }
        let bytes = Array(text.utf8)
        let found = try makeDetector(Self.rule, options: DetectorOptions(maxDecodeDepth: 0)).makeScanner().scan(bytes: bytes)
            .sorted { ($0.startLine, $0.startColumn) < ($1.startLine, $1.startColumn) }
        #expect(found.count == expected.count)
        for (f, e) in zip(found, expected) {
            let start = referencePosition(of: e.offset, in: bytes)
            let end = referencePosition(of: e.offset + 22, in: bytes)
            #expect(f.secret == e.secret)
            #expect(f.span == [start.line, start.column, end.line, end.column])
        }
    }

    @Test("CRLF line ends: columns count bytes from the line start, CR is not part of the match")
    func crlf() throws {
        let a = Self.token(), b = Self.token()
        let text = "one\r\nkey = \(a)\r\n\r\n\(b)\r\n"
        let found = try scan(Self.rule, text).sorted { $0.startLine < $1.startLine }
        #expect(found.map { [$0.startLine, $0.startColumn, $0.endColumn] } == [[2, 7, 29], [4, 1, 23]])
        #expect(found.map(\.line).map { $0.hasPrefix("key = ") || $0.hasPrefix("tk_") } == [true, true])
    }

    @Test("a multi-line match reports endLine and the end column on that line; line holds all its lines")
    func multiLine() throws {
        let toml = singleRule(id: "block", regex: #"BEGIN\n([A-Za-z0-9]{10}\n){2,}END"#)
        let body = (0..<3).map { _ in randomString(Alphabet.base62, count: 10) }
        let text = "header\nx = BEGIN\n" + body.joined(separator: "\n") + "\nEND;\ntrailer"
        let found = try scan(toml, text)
        #expect(found.count == 1)
        let f = try #require(found.first)
        #expect(f.span == [2, 5, 6, 3])
        #expect(f.line == "x = BEGIN\n" + body.joined(separator: "\n") + "\nEND;")
    }

    @Test("Finding.line is the whole line around the match")
    func wholeLine() throws {
        let a = Self.token()
        let found = try scan(Self.rule, "prev\n\tconst t = '\(a)'; // note\nnext")
        #expect(found.first?.line == "\tconst t = '\(a)'; // note")
        #expect(found.first?.match == a)
    }

    @Test("firstLine shifts line numbers of a chunk; columns are unchanged")
    func firstLine() throws {
        let a = Self.token()
        let scanner = try makeDetector(Self.rule).makeScanner()
        let found = scanner.scan(bytes: Array("x\n  \(a)\n".utf8), firstLine: 1001)
        #expect(found.map { $0.span } == [[1002, 3, 1002, 25]])
    }

    @Test("owned ranges: overlapping chunks with firstLine/owned report exactly what one whole scan reports")
    func chunking() throws {
        var g = SeededGenerator(seed: 5)
        var text = ""
        for i in 0..<400 {
            text += "line \(i) " + randomString(Alphabet.lower, count: Int.random(in: 0...50, using: &g), using: &g)
            if Int.random(in: 0..<3, using: &g) == 0 { text += " tk_" + randomString(Alphabet.base62, count: 20, using: &g) }
            text += "\n"
        }
        let bytes = Array(text.utf8)
        let scanner = try makeDetector(Self.rule, options: DetectorOptions(maxDecodeDepth: 0)).makeScanner()
        let whole = scanner.scan(bytes: bytes).map(Hit.init).sorted()
        #expect(whole.count > 50)

        // Chunks of ~1 KiB cut at line starts, each extended by 200 bytes of overlap; a chunk owns
        // only its own bytes (relative to the chunk start).
        var chunked = [Hit]()
        var start = 0
        var line = 1
        while start < bytes.count {
            var end = min(bytes.count, start + 1024)
            while end < bytes.count && bytes[end - 1] != 0x0A { end += 1 }
            let overlapEnd = min(bytes.count, end + 200)
            let chunk = Array(bytes[start..<overlapEnd])
            chunked += scanner.scan(bytes: chunk, firstLine: line, owned: 0..<(end - start)).map(Hit.init)
            line += bytes[start..<end].filter { $0 == 0x0A }.count
            start = end
        }
        #expect(chunked.sorted() == whole)
    }

    @Test("LineIndex maps offsets to 1-based lines and columns")
    func lineIndex() {
        func pos(_ index: LineIndex, _ offset: Int) -> [Int] {
            let p = index.position(of: offset)
            return [p.line, p.column]
        }
        let bytes = Array("ab\ncd\n\nef".utf8)
        bytes.withUnsafeBytes { buf in
            let index = LineIndex(buf)
            #expect(pos(index, 0) == [1, 1])
            #expect(pos(index, 2) == [1, 3])  // the newline itself belongs to line 1
            #expect(pos(index, 3) == [2, 1])
            #expect(pos(index, 6) == [3, 1])
            #expect(pos(index, 8) == [4, 2])
            #expect(index.lines(spanning: 3..<5, count: bytes.count) == 3..<5)
            #expect(index.lines(spanning: 1..<4, count: bytes.count) == 0..<5)
            #expect(index.lines(spanning: 7..<9, count: bytes.count) == 7..<9)
            let shifted = LineIndex(buf, firstLine: 10)
            #expect(pos(shifted, 8) == [13, 2])
        }
    }
}

import Foundation
import Testing
import Rules
@testable import Detection

/// Secrets hidden under base64, hex, percent and \u escapes, nested encodings, and the limits.
@Suite("Decoding")
struct DecodingTests {
    static let rule = singleRule(id: "tk", regex: #"\b(tk_[A-Za-z0-9]{24})\b"#, extra: #"tags = ["test"]"#)

    static func secret() -> String { "tk_" + highEntropyBase62(24) }

    /// `prefix` + encoded payload + `suffix`: the payload is `key=<secret>`.
    static func check(_ encoding: String, encode: (String) -> String, prefix: String = "value: \"", suffix: String = "\"",
                      depth: Int = 1) throws {
        let secret = Self.secret()
        let encoded = encode("key=\(secret)")
        let text = "line one\n\(prefix)\(encoded)\(suffix)\nline three"
        let found = try scan(Self.rule, text)
        #expect(found.count == 1, "\(encoding): \(found.map(\.secret))")
        let f = try #require(found.first)
        #expect(f.secret == secret)
        #expect(f.startLine == 2 && f.endLine == 2)
        // Reported at the encoded span: its first and last byte on the line.
        let column = prefix.utf8.count + 1
        #expect(f.startColumn == column, "\(encoding) start")
        #expect(f.endColumn == column + encoded.utf8.count - 1, "\(encoding) end")
        #expect(f.tags.contains("test"))
        #expect(f.tags.contains("decoded:\(encoding)"))
        #expect(f.tags.contains("decode-depth:\(depth)"))
        #expect(f.line == "\(prefix)\(encoded)\(suffix)")
    }

    @Test("base64 (standard and url-safe)")
    func base64() throws {
        try Self.check("base64", encode: Encode.base64)
        try Self.check("base64", encode: { Encode.base64($0).replacingOccurrences(of: "=", with: "") },
                       prefix: "export B=", suffix: "")
    }

    @Test("hex") func hex() throws { try Self.check("hex", encode: Encode.hex) }

    @Test("percent-encoding") func percent() throws { try Self.check("percent", encode: Encode.percentAll) }

    @Test("percent-encoding inside a URL is reported at the whole URL token")
    func percentInURL() throws {
        let secret = Self.secret()
        let url = "https://example.com/cb?q=" + Encode.percentAll("key=\(secret)") + "&mode=1"
        let found = try scan(Self.rule, "first\nurl = \(url) # comment")
        #expect(found.map(\.secret) == [secret])
        let f = try #require(found.first)
        let end = 6 + url.utf8.count
        let got: [Int] = f.span
        #expect(got == [2, 7, 2, end])
        #expect(f.tags.contains("decoded:percent"))
    }

    @Test("\\uXXXX escapes") func unicode() throws { try Self.check("unicode", encode: Encode.unicodeEscaped) }

    @Test("double encoding: base64 of base64 reports depth 2 and both encodings")
    func doubleBase64() throws {
        try Self.check("base64", encode: { Encode.base64(Encode.base64($0)) }, depth: 2)
        let secret = Self.secret()
        let found = try scan(Self.rule, "x = " + Encode.base64(Encode.base64("key=\(secret)")))
        #expect(found.first?.tags.filter { $0 == "decoded:base64" }.count == 2)
    }

    @Test("hex inside base64: mixed encodings are tagged in order")
    func hexInsideBase64() throws {
        let secret = Self.secret()
        let found = try scan(Self.rule, "x = " + Encode.base64(Encode.hex("key=\(secret)")))
        #expect(found.map(\.secret) == [secret])
        #expect(found.first?.tags == ["test", "decoded:base64", "decoded:hex", "decode-depth:2"])
    }

    @Test("a keyword outside the encoded span still enables the rule on the decoded text (gitleaks semantics)")
    func keywordOutsideEncodedSpan() throws {
        let toml = singleRule(id: "gated-hex", regex: #"\b([0-9a-f]{40})\b"#, extra: #"keywords = ["commit_token"]"#)
        let hex = randomString(Alphabet.hexLower, count: 40)
        let found = try scan(toml, "commit_token: " + Encode.base64("value \(hex) end"))
        #expect(found.map(\.secret) == [hex])
        #expect(found.first?.tags.contains("decoded:base64") == true)
        // Without the keyword anywhere in the unit the rule stays gated.
        #expect(try scan(toml, "other: " + Encode.base64("value \(hex) end")).isEmpty)
    }

    @Test("maxDecodeDepth bounds nesting; 0 disables decoding")
    func depthLimit() throws {
        let secret = Self.secret()
        let once = "x = " + Encode.base64("key=\(secret)")
        let twice = "x = " + Encode.base64(Encode.base64("key=\(secret)"))
        #expect(try scan(Self.rule, once, options: DetectorOptions(maxDecodeDepth: 0)).isEmpty)
        #expect(try scan(Self.rule, once, options: DetectorOptions(maxDecodeDepth: 1)).count == 1)
        #expect(try scan(Self.rule, twice, options: DetectorOptions(maxDecodeDepth: 1)).isEmpty)
        #expect(try scan(Self.rule, twice, options: DetectorOptions(maxDecodeDepth: 2)).count == 1)
    }

    @Test("a plain secret is reported once, without decode tags")
    func plainNotDuplicated() throws {
        let secret = Self.secret()
        let found = try scan(Self.rule, "token = \(secret)")
        #expect(found.count == 1)
        #expect(found.first?.tags == ["test"])
    }

    @Test("base64 after a backslash escape in the same string (notebook JSON) is still decoded")
    func base64AfterEscape() throws {
        let secret = Self.secret()
        let encoded = Encode.base64("key=\(secret)")
        let found = try scan(Self.rule, #"{"cells": ["import os\nblob=\#(encoded)\n"]}"#)
        #expect(found.map(\.secret) == [secret])
    }

    @Test("base64 after a single percent-escape in the same URL is still decoded")
    func base64AfterSingleEscape() throws {
        let secret = Self.secret()
        let encoded = Encode.base64("key=\(secret)")
        let url = "https://example.com/cb?redirect=%2Fhome&blob=\(encoded)&mode=1"
        let found = try scan(Self.rule, "url: \(url)")
        #expect(found.map(\.secret) == [secret])
        #expect(found.first?.tags.contains("decoded:base64") == true)
    }

    @Test("base64 of multi-line text whose early lines are short (a .env file) is decoded", arguments: [
        "A=1\nB=2\n", "ID\tx\n", "x=1\r\ny=2\r\n", "#\n#\n",
    ])
    func base64OfShortLines(prefix: String) throws {
        let secret = Self.secret()
        let encoded = Encode.base64(prefix + "key=\(secret)\n")
        let found = try scan(Self.rule, "data:\n  app.env: \(encoded)\n")
        #expect(found.map(\.secret) == [secret])
    }

    @Test("identifiers, paths, digests and binary base64 decode to nothing")
    func noiseProducesNothing() throws {
        // A catch-all rule: any decoded layer with printable text would produce a finding.
        let toml = singleRule(id: "anything", regex: #"[\x20-\x7e]{6,}"#)
        let noise = [
            "someVeryLongIdentifierNameThatLooksLikeBase64AndKeepsGoing",
            "/usr/local/lib/python3.11/site-packages/package/module.py",
            "src/main/java/com/example/service/impl/UserServiceImpl.java",
            randomString(Alphabet.hexLower, count: 64),  // a sha256-like digest
            Data((0..<48).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
        ].joined(separator: "\n")
        let detector = try makeDetector(toml)
        let plain = detector.makeScanner().scan(noise).filter { !$0.tags.isEmpty }
        #expect(plain.isEmpty, "decoded: \(plain.map(\.match))")
        try Array(noise.utf8).withUnsafeBytes { buf in
            var budget = 1 << 20
            let decoded = try segments(in: buf, budget: &budget)
            #expect(decoded.isEmpty, "\(decoded.map { String(decoding: $0.decoded, as: UTF8.self) })")
        }
    }

    @Test("random binary (hex digests, base64 of random bytes) is not taken for text")
    func binaryIsNotText() throws {
        // About one random 32-byte digest in ten has at most one control byte; bytes >= 0x80 are
        // only text when they form UTF-8.
        var accepted = [String]()
        for _ in 0..<200 {
            let digest = randomString(Alphabet.hexLower, count: 64)
            let blob = Data((0..<48).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            for text in ["sha = \(digest)", "blob = \(blob)"] {
                var budget = 1 << 20
                let found = try Array(text.utf8).withUnsafeBytes { try segments(in: $0, budget: &budget) }
                if !found.isEmpty { accepted.append(text) }
            }
        }
        #expect(accepted.isEmpty, "\(accepted.prefix(3))")
        // Real UTF-8 text still counts, including a character cut at the end of a prefix.
        #expect(SegmentDecoder.isPrintable(Array("pässwörd = ünïcödé välüe".utf8)))
        #expect(SegmentDecoder.isPrintable(Array(Array("abcdefgé".utf8).dropLast())))
        let hex = Encode.hex("naïve café token = \(Self.secret())")
        var budget = 1 << 20
        let decoded = try Array("x = \(hex)".utf8).withUnsafeBytes { try segments(in: $0, budget: &budget) }
        #expect(decoded.count == 1)
    }

    @Test("SegmentDecoder recognises each encoding and its span")
    func segmentDecoder() throws {
        let payload = "password=" + highEntropyBase62(20)
        for (encoding, encoded) in [(Encoding.base64, Encode.base64(payload)), (.hex, Encode.hex(payload)),
                                     (.percent, Encode.percentAll(payload)), (.unicode, Encode.unicodeEscaped(payload))] {
            let text = Array("a = \"\(encoded)\" ;".utf8)
            try text.withUnsafeBytes { buf in
                var budget = 1 << 20
                let segments = try segments(in: buf, budget: &budget)
                #expect(segments.count == 1, "\(encoding)")
                #expect(segments.first?.encoding == encoding)
                #expect(segments.first?.range == 5..<(5 + encoded.utf8.count))
                #expect(segments.first.map { String(decoding: $0.decoded, as: UTF8.self) } == payload)
                #expect(budget == (1 << 20) - payload.utf8.count)
            }
        }
    }

    @Test("the decode budget stops decoding once spent, and a huge blob completes")
    func budget() throws {
        // Many separately encoded secrets on separate lines: with a small budget only the first few decode.
        let secrets = (0..<50).map { _ in Self.secret() }
        let text = secrets.map { "v = " + Encode.base64("key=\($0)") }.joined(separator: "\n")
        let all = try scan(Self.rule, text)
        #expect(all.count == 50)
        let limited = try scan(Self.rule, text, options: DetectorOptions(maxDecodedBytes: 200))
        #expect(limited.count < 10)
        #expect(limited.count >= 1)

        // A 4 MB base64 blob of printable text with secrets sprinkled in: decoding is bounded by
        // the budget and the scan completes with the secrets inside the budget found.
        var inner = ""
        var planted = [String]()
        while inner.utf8.count < 3 << 20 {
            inner += randomString(Alphabet.lower + Array(" ".utf8), count: 60_000)
            let s = Self.secret()
            planted.append(s)
            inner += " key=\(s) "
        }
        let blob = "data: " + Encode.base64(inner)
        let found = try scan(Self.rule, blob, options: DetectorOptions(maxDecodedBytes: 16 << 20))
        #expect(Set(found.map(\.secret)) == Set(planted))
        let tiny = try scan(Self.rule, blob + "\n" + text, options: DetectorOptions(maxDecodedBytes: 1 << 20))
        // The first blob already exhausts a 1 MB budget: nothing after it is decoded.
        #expect(!tiny.contains { secrets.contains($0.secret) })
    }

    /// The block-at-a-time run finder against a byte-by-byte reference, on inputs whose runs start
    /// and end at every offset around the 64-byte block edges.
    @Test func encodedRunsMatchesAByteByByteReference() {
        func reference(_ bytes: [UInt8]) -> [Int] {
            func inAlphabet(_ b: UInt8) -> Bool {
                (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 43 || b == 47 || b == 45 || b == 95
            }
            func isHex(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102) }
            var starts = [Int](), i = 0
            while i < bytes.count {
                guard inAlphabet(bytes[i]) else { i += 1; continue }
                var e = i
                while e < bytes.count && inAlphabet(bytes[e]) { e += 1 }
                let first = bytes[i]
                let textStart = (first >= 73 && first <= 90) || (first >= 97 && first <= 102) || first == 67 || first == 68
                if e - i >= SegmentDecoder.minBase64 && (textStart || isHex(first)) { starts.append(i) }
                i = e
            }
            return starts
        }
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_".utf8)
        let others = Array(" \n\t=.,;:\"'(){}<>".utf8) + [0x00, 0xC3, 0xFF]
        for trial in 0..<400 {
            var bytes = [UInt8]()
            let length = Int.random(in: 0...600, using: &generator)
            while bytes.count < length {
                // Runs of 1...140 alphabet bytes (many close to 16 and to 64) between separators.
                let run = trial % 2 == 0 ? Int.random(in: 1...140, using: &generator) : Int.random(in: 12...20, using: &generator)
                for _ in 0..<run { bytes.append(alphabet.randomElement(using: &generator)!) }
                for _ in 0..<Int.random(in: 1...3, using: &generator) { bytes.append(others.randomElement(using: &generator)!) }
            }
            bytes = Array(bytes.prefix(length))
            let found = bytes.withUnsafeBytes { SegmentDecoder.encodedRuns(in: $0) }
            #expect(found == reference(bytes), "trial \(trial), \(bytes.count) bytes")
        }
        // Exact block multiples filled with one run, and a run that ends exactly at a block edge.
        for count in [16, 63, 64, 65, 127, 128, 129, 192] {
            let full = [UInt8](repeating: UInt8(ascii: "Q"), count: count)
            #expect(full.withUnsafeBytes { SegmentDecoder.encodedRuns(in: $0) } == reference(full))
            let edged = [UInt8](repeating: UInt8(ascii: " "), count: 64 - min(count, 64) % 64) + full + [UInt8(ascii: " ")]
            #expect(edged.withUnsafeBytes { SegmentDecoder.encodedRuns(in: $0) } == reference(edged))
        }
    }

    /// The byte-parallel alphabet test against the definition, for every byte value in every lane
    /// next to every kind of neighbour (a carry between lanes would show here).
    @Test func alphabetBitsMatchTheAlphabetForEveryByteInEveryLane() {
        func inAlphabet(_ b: UInt8) -> Bool {
            (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 43 || b == 47 || b == 45 || b == 95
        }
        for neighbour in [UInt8(0x00), 0x2F, 0x5F, 0x7F, 0x80, 0xFF, 0x61] {
            for lane in 0..<8 {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: neighbour, count: 8)
                    bytes[lane] = UInt8(value)
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    var expected: UInt64 = 0
                    for (i, b) in bytes.enumerated() where inAlphabet(b) { expected |= 1 << UInt64(i) }
                    #expect(SegmentDecoder.alphabetBits(UInt64(littleEndian: word)) == expected, "lane \(lane) value \(value) next to \(neighbour)")
                }
            }
        }
    }
}

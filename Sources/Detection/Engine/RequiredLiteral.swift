/// How long a literal every match of a regex must contain: what lets Vectorscan skip most of the
/// input. A rule without one (e.g. `(?:\A|\n)[\w.*-]{1,100}:(?:\d{2,5}|\*):…`, a .pgpass line) makes
/// Vectorscan run an automaton at every position: that one rule was a fifth of the database's scan
/// time on the benchmark corpus. Such a rule is better gated by its keywords alone.
///
/// A conservative reading of PCRE2 syntax: a literal run is broken by anything that is not a plain
/// character (classes, escapes like `\d`, anchors, optional or repeated items); an alternation's
/// factor is its weakest branch's; a group or an item repeated at least once keeps its inner
/// factor. Syntax it does not follow (extended mode, `\Q…\E`, conditionals, recursion) gives `nil`:
/// "unknown", which callers treat as "has one".
enum RequiredLiteral {
    /// Bytes in the longest literal every match contains, or nil when the syntax was not understood.
    static func longest(in source: String) -> Int? {
        var parser = Parser(Array(source.utf8))
        guard let factor = parser.alternation(), parser.atEnd else { return nil }
        return factor
    }

    private struct Parser {
        let s: [UInt8]
        var i = 0

        init(_ s: [UInt8]) { self.s = s }

        var atEnd: Bool { i >= s.count }

        private func peek(_ offset: Int = 0) -> UInt8? { i + offset < s.count ? s[i + offset] : nil }

        private func starts(with text: String) -> Bool {
            let t = Array(text.utf8)
            return i + t.count <= s.count && Array(s[i..<i + t.count]) == t
        }

        /// `a|b|…` up to an unmatched `)` or the end: the weakest branch.
        mutating func alternation() -> Int? {
            guard var weakest = sequence() else { return nil }
            while peek() == UInt8(ascii: "|") {
                i += 1
                guard let next = sequence() else { return nil }
                weakest = min(weakest, next)
            }
            return weakest
        }

        /// A concatenation: the longest literal run, or the strongest required group inside it.
        private mutating func sequence() -> Int? {
            var best = 0
            var run = 0
            while let c = peek(), c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
                guard let atom = atom() else { return nil }
                switch atom {
                case .skip:
                    continue
                case .literal(let bytes):
                    let (low, high) = quantifier()
                    if high == 1 && low == 1 {
                        run += bytes
                        best = max(best, run)
                    } else {
                        run = 0
                        if low >= 1 { best = max(best, bytes) }
                    }
                case .other(let factor):
                    let (low, _) = quantifier()
                    run = 0
                    if low >= 1 { best = max(best, factor) }
                }
            }
            return best
        }

        private enum Atom {
            /// Plain bytes (one character).
            case literal(Int)
            /// Anything else, with the factor it guarantees inside.
            case other(Int)
            /// Zero-width syntax that neither adds nor breaks (inline flags, comments).
            case skip
        }

        private mutating func atom() -> Atom? {
            guard let c = peek() else { return nil }
            switch c {
            case UInt8(ascii: "("):
                return group()
            case UInt8(ascii: "["):
                return skipClass() ? .other(0) : nil
            case UInt8(ascii: "\\"):
                return escape()
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"):
                i += 1
                return .other(0)
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
                return nil   // a quantifier with nothing before it
            default:
                // One UTF-8 character: its lead byte and continuation bytes.
                var n = 1
                while let next = peek(n), next & 0xC0 == 0x80 { n += 1 }
                i += n
                return .literal(n)
            }
        }

        private mutating func group() -> Atom? {
            i += 1   // "("
            if peek() == UInt8(ascii: "?") {
                if starts(with: "?#") {
                    while let c = peek(), c != UInt8(ascii: ")") { i += 1 }
                    guard peek() == UInt8(ascii: ")") else { return nil }
                    i += 1
                    return .skip
                }
                if starts(with: "?=") || starts(with: "?!") || starts(with: "?<=") || starts(with: "?<!") {
                    i += starts(with: "?<") ? 3 : 2
                    guard alternation() != nil, peek() == UInt8(ascii: ")") else { return nil }
                    i += 1
                    return .other(0)   // zero-width: requires nothing of the match itself
                }
                if starts(with: "?:") || starts(with: "?>") || starts(with: "?|") {
                    i += 2
                } else if starts(with: "?P<") || starts(with: "?<") || starts(with: "?'") {
                    let close = starts(with: "?'") ? UInt8(ascii: "'") : UInt8(ascii: ">")
                    while let c = peek(), c != close { i += 1 }
                    guard peek() == close else { return nil }
                    i += 1
                } else {
                    // Inline flags: `(?i)` applies to the rest, `(?i:…)` is a group. Extended mode
                    // (`x`) changes what whitespace means: not followed.
                    var j = i + 1
                    while j < s.count, s[j] == UInt8(ascii: "-") || (s[j] >= UInt8(ascii: "a") && s[j] <= UInt8(ascii: "z"))
                            || (s[j] >= UInt8(ascii: "A") && s[j] <= UInt8(ascii: "Z")) {
                        if s[j] == UInt8(ascii: "x") { return nil }
                        j += 1
                    }
                    guard j < s.count, j > i + 1 else { return nil }
                    if s[j] == UInt8(ascii: ")") {
                        i = j + 1
                        return .skip
                    }
                    guard s[j] == UInt8(ascii: ":") else { return nil }
                    i = j + 1
                }
            }
            guard let inner = alternation(), peek() == UInt8(ascii: ")") else { return nil }
            i += 1
            return .other(inner)
        }

        /// Skips `[...]`, honouring escapes, POSIX classes and a leading `]`.
        private mutating func skipClass() -> Bool {
            i += 1
            if peek() == UInt8(ascii: "^") { i += 1 }
            if peek() == UInt8(ascii: "]") { i += 1 }
            while let c = peek() {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "[") && peek(1) == UInt8(ascii: ":") {
                    i += 2
                    while let d = peek(), d != UInt8(ascii: "]") { i += 1 }
                    i += 1
                    continue
                }
                i += 1
                if c == UInt8(ascii: "]") { return true }
            }
            return false
        }

        private mutating func escape() -> Atom? {
            guard let e = peek(1) else { return nil }
            i += 2
            switch e {
            case UInt8(ascii: "x"):
                skipBracedOr(2)   // \x{263A} or \x41
                return .literal(1)
            case UInt8(ascii: "p"), UInt8(ascii: "P"):
                skipBracedOr(1)   // \p{Lu} or \pL
                return .other(0)
            case UInt8(ascii: "Q"), UInt8(ascii: "E"), UInt8(ascii: "g"), UInt8(ascii: "k"), UInt8(ascii: "K"):
                return nil
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                return nil   // backreference or octal: not followed
            case UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "e"), UInt8(ascii: "a"):
                return .literal(1)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                return .other(0)   // \d \w \s \b \A \z \h \R …: classes and anchors
            default:
                return .literal(1)   // an escaped metacharacter
            }
        }

        /// Skips an escape's `{...}` argument, or `count` bytes when it has no braces.
        private mutating func skipBracedOr(_ count: Int) {
            guard peek() == UInt8(ascii: "{") else { i += count; return }
            while let c = peek(), c != UInt8(ascii: "}") { i += 1 }
            i += 1
        }

        /// The quantifier after an atom, as (minimum, maximum); (1, 1) when there is none.
        private mutating func quantifier() -> (Int, Int) {
            guard let c = peek() else { return (1, 1) }
            var bounds: (Int, Int)
            switch c {
            case UInt8(ascii: "*"): i += 1; bounds = (0, Int.max)
            case UInt8(ascii: "+"): i += 1; bounds = (1, Int.max)
            case UInt8(ascii: "?"): i += 1; bounds = (0, 1)
            case UInt8(ascii: "{"):
                var j = i + 1
                var low = 0, digits = 0
                while j < s.count, s[j] >= UInt8(ascii: "0"), s[j] <= UInt8(ascii: "9") {
                    low = min(low * 10 + Int(s[j] - UInt8(ascii: "0")), 1 << 20); j += 1; digits += 1
                }
                var high = low
                if j < s.count, s[j] == UInt8(ascii: ",") {
                    j += 1
                    high = Int.max
                    var highDigits = 0, value = 0
                    while j < s.count, s[j] >= UInt8(ascii: "0"), s[j] <= UInt8(ascii: "9") {
                        value = min(value * 10 + Int(s[j] - UInt8(ascii: "0")), 1 << 20); j += 1; highDigits += 1
                    }
                    if highDigits > 0 { high = value }
                }
                // `{` that does not form a quantifier is a literal brace, read as the next atom.
                guard digits > 0, j < s.count, s[j] == UInt8(ascii: "}") else { return (1, 1) }
                i = j + 1
                bounds = (low, high)
            default:
                return (1, 1)
            }
            if let lazy = peek(), lazy == UInt8(ascii: "?") || lazy == UInt8(ascii: "+") { i += 1 }
            return bounds
        }
    }
}

import CPCRE2
import Foundation

// Thin wrapper over PCRE2 (8-bit, no UTF: patterns and subjects are bytes). All unsafe pointer code
// for the library lives here.

/// Why PCRE2 rejected a pattern.
struct PCRE2CompileError: Error {
    var offset: Int
    var message: String
}

/// A compiled pattern, shareable across threads. Work a pre-commit run would waste is put off
/// until a match needs it (under a lock, once): compiling ~450 rule and allowlist patterns costs
/// ~3 ms while a few staged lines reach a handful, so a pattern known to compile (`init(deferred:)`)
/// is compiled on first use; JIT compilation (~0.1–1 ms a pattern) waits for the pattern's
/// `jitAfterUses`-th match call, since the interpreter is quicker for a few short windows.
final class PCRE2Regex: @unchecked Sendable {
    let pattern: String
    /// Set when `pattern` is the rest of a rule regex whose lazy leading `[class]{0,N}?` was taken
    /// off (see `LazyPrefix`); `matches` puts it back.
    let lazyPrefix: LazyPrefix?
    private let caseless: Bool
    private let lock = NSLock()
    private var compiledCode: OpaquePointer?
    private var failed = false
    private var uses = 0
    private var jitted = false
    private var captures = 0

    /// Uses after which the pattern is JIT-compiled.
    static let jitAfterUses = 8

    /// Compiles now: a pattern PCRE2 refuses throws.
    init(_ pattern: String, caseless: Bool = false, lazyPrefix: LazyPrefix? = nil) throws {
        self.pattern = pattern
        self.lazyPrefix = lazyPrefix
        self.caseless = caseless
        switch Self.compile(pattern, caseless: caseless) {
        case .success(let code): install(code)
        case .failure(let error): throw error
        }
    }

    /// A pattern known to compile with this PCRE2 (it did in an earlier run, see
    /// `DatabaseCache.loadStages`), compiled on first use. Should that fail after all, the pattern
    /// matches nothing.
    init(deferred pattern: String, caseless: Bool = false, lazyPrefix: LazyPrefix? = nil) {
        self.pattern = pattern
        self.lazyPrefix = lazyPrefix
        self.caseless = caseless
    }

    deinit { if let compiledCode { pcre2_code_free_8(compiledCode) } }

    private func install(_ code: OpaquePointer) {
        compiledCode = code
        var count: UInt32 = 0
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        captures = Int(count)
    }

    private static func compile(_ pattern: String, caseless: Bool) -> Result<OpaquePointer, PCRE2CompileError> {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let options: UInt32 = caseless ? UInt32(PCRE2_CASELESS) : 0
        let compiled = pattern.withCString { ptr in
            ptr.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count) {
                pcre2_compile_8($0, pattern.utf8.count, options, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else { return .failure(PCRE2CompileError(offset: errorOffset, message: message(for: errorCode))) }
        return .success(compiled)
    }

    /// The pattern ready for `pcre2_match` (JIT-compiled once used often enough; the interpreter
    /// before that or if the JIT refuses it) and its capture count; nil if it does not compile.
    func prepared() -> (code: OpaquePointer, captureCount: Int)? {
        lock.lock()
        defer { lock.unlock() }
        if compiledCode == nil {
            guard !failed, case .success(let code) = Self.compile(pattern, caseless: caseless) else {
                failed = true
                return nil
            }
            install(code)
        }
        guard let code = compiledCode else { return nil }
        if !jitted {
            uses += 1
            if uses >= Self.jitAfterUses {
                _ = pcre2_jit_compile_8(code, UInt32(PCRE2_JIT_COMPLETE))  // falls back to the interpreter on failure
                jitted = true
            }
        }
        return (code, captures)
    }

    /// The PCRE2 library's version, e.g. `10.42 2022-12-11` (part of cache keys).
    static let libraryVersion: String = {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = pcre2_config_8(UInt32(PCRE2_CONFIG_VERSION), &buffer)
        return n > 1 ? String(decoding: buffer[0..<Int(n - 1)], as: UTF8.self) : "unknown"
    }()

    /// Whether the pattern has been compiled yet (for tests).
    var isCompiled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return compiledCode != nil
    }

    /// Whether the JIT has compiled the pattern (for tests).
    var isJITCompiled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return jitted
    }

    static func message(for code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = pcre2_get_error_message_8(code, &buffer, buffer.count)
        return n > 0 ? String(decoding: buffer[0..<Int(n)], as: UTF8.self) : "PCRE2 error \(code)"
    }
}

/// One match: the overall range and each capture group's range (`nil` when unset).
/// A rule regex of the form `(?i)[class]{0,N}?rest` (a lazy identifier prefix in front of a
/// keyword, e.g. `[\w.-]{0,30}?(?:secret|token|...)`). PCRE2 tries such a regex at every byte the
/// class accepts, expanding the prefix at each; searched for `rest` alone, it can skip to where
/// `rest` can start (the keyword), and the leftmost start the whole regex would have found is the
/// furthest position at most `limit` bytes back whose bytes up to the match are all in the class
/// (and not before the search start): the same match, a fraction of the work.
struct LazyPrefix: Sendable, Equatable {
    /// Which bytes the class takes, under the regex's flags.
    let accepts: [Bool]
    let limit: Int

    /// The prefix and the rest of `pattern`, or nil when it does not start that way (or the class
    /// uses something other than plain members, escapes and ranges).
    static func split(_ pattern: String) -> (prefix: LazyPrefix, rest: String)? {
        var text = Substring(pattern)
        var flags = ""
        if text.hasPrefix("(?i)") {
            flags = "(?i)"
            text = text.dropFirst(4)
        }
        guard text.first == "[", !text.hasPrefix("[^"), !text.hasPrefix("[]") else { return nil }
        var i = text.index(after: text.startIndex)
        var classEnd: Substring.Index?
        while i < text.endIndex {
            let c = text[i]
            if c == "\\" {
                i = text.index(after: i)
                guard i < text.endIndex else { return nil }
            } else if c == "[" {
                return nil  // POSIX classes and the like: not worth the risk
            } else if c == "]" {
                classEnd = i
                break
            }
            i = text.index(after: i)
        }
        guard let classEnd else { return nil }
        let charClass = String(text[text.startIndex...classEnd])
        var after = text[text.index(after: classEnd)...]
        guard after.hasPrefix("{0,") else { return nil }
        after = after.dropFirst(3)
        let digits = after.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 3, let limit = Int(digits) else { return nil }
        after = after.dropFirst(digits.count)
        guard after.hasPrefix("}?") else { return nil }
        let rest = after.dropFirst(2)
        guard !rest.isEmpty, let member = try? PCRE2Regex("^(?:\(flags)\(charClass))$") else { return nil }
        let matcher = PCRE2Matcher()
        var accepts = [Bool](repeating: false, count: 256)
        for byte in 0..<256 {
            var one = UInt8(byte)
            accepts[byte] = withUnsafeBytes(of: &one) { !matcher.matches(member, in: $0, searchRange: 0..<1).isEmpty }
        }
        return (LazyPrefix(accepts: accepts, limit: limit), flags + rest)
    }
}

struct PCRE2Match {
    var range: Range<Int>
    var groups: [Range<Int>?]
}

/// Per-thread match state (match data, JIT stack, limits); never share between threads.
final class PCRE2Matcher {
    private let matchData: OpaquePointer
    private let context: OpaquePointer
    private let jitStack: OpaquePointer?

    /// `matchLimit` and `depthLimit` bound backtracking on hostile input.
    init(maxCaptures: Int = 32, matchLimit: UInt32 = 2_000_000, depthLimit: UInt32 = 10_000) {
        matchData = pcre2_match_data_create_8(UInt32(maxCaptures + 1), nil)
        context = pcre2_match_context_create_8(nil)
        jitStack = pcre2_jit_stack_create_8(32 * 1024, 1024 * 1024, nil)
        pcre2_set_match_limit_8(context, matchLimit)
        pcre2_set_depth_limit_8(context, depthLimit)
        if let jitStack { pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(jitStack)) }
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(context)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }

    /// All non-overlapping matches of `regex` that start in `searchRange`, treating
    /// `subject[0..<searchRange.upperBound]` as the subject (so `^` and look-behind see real context)
    /// and, when the window ends before the buffer does, `$` as not at the end.
    ///
    /// A window cut short of the buffer can fake a match that only holds because the text stops
    /// there (a trailing `\b`, `\z`, or a look-ahead running out of input), so each match in such a
    /// window is re-run, anchored at its start, on the whole subject and kept only if it holds there.
    func matches(_ regex: PCRE2Regex, in subject: UnsafeRawBufferPointer, searchRange: Range<Int>,
                 limit: Int = 10_000) -> [PCRE2Match] {
        guard let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self),
              let (code, captureCount) = regex.prepared() else { return [] }
        var results = [PCRE2Match]()
        let end = searchRange.upperBound
        let truncated = end < subject.count
        let options: UInt32 = truncated ? UInt32(PCRE2_NOTEOL) : 0
        var start = searchRange.lowerBound
        while start <= end && results.count < limit {
            var rc = pcre2_match_8(code, base, end, start, options, matchData, context)
            if rc < 0 {
                // No match: done. A match or depth limit (catastrophic backtracking): give up on
                // this line only, so one pathological line cannot hide the lines after it.
                guard rc != PCRE2_ERROR_NOMATCH, let next = Self.lineAfter(start, in: subject, end: end) else { break }
                start = next
                continue
            }
            let ovector = pcre2_get_ovector_pointer_8(matchData)!
            if truncated {
                let found = Int(ovector[0])
                let full = pcre2_match_8(code, base, subject.count, found, UInt32(PCRE2_ANCHORED), matchData, context)
                if full == PCRE2_ERROR_NOMATCH {
                    start = found + 1
                    continue
                } else if full < 0 {
                    guard let next = Self.lineAfter(found, in: subject, end: end) else { break }
                    start = next
                    continue
                }
                rc = full
            }
            var lo = Int(ovector[0])
            let hi = Int(ovector[1])
            if let prefix = regex.lazyPrefix {
                // The leftmost start the whole regex would have found: back over prefix-class bytes,
                // at most `limit`, never before where this search started.
                let floor = max(start, lo - prefix.limit)
                while lo > floor && prefix.accepts[Int(base[lo - 1])] { lo -= 1 }
            }
            var groups = [Range<Int>?]()
            let pairs = min(Int(rc), captureCount + 1)
            if captureCount > 0 {
                for g in 1...captureCount {
                    if g < pairs, ovector[2 * g] != UInt.max {
                        groups.append(Int(ovector[2 * g])..<Int(ovector[2 * g + 1]))
                    } else {
                        groups.append(nil)
                    }
                }
            }
            // An empty match with no non-empty group can never hold a secret: don't let a pattern
            // that matches the empty string everywhere use up `limit`.
            if hi > lo || groups.contains(where: { !($0?.isEmpty ?? true) }) {
                results.append(PCRE2Match(range: lo..<hi, groups: groups))
            }
            start = hi > lo ? hi : hi + 1
        }
        return results
    }

    /// The offset just past the first newline at or after `offset` (before `end`), if any.
    private static func lineAfter(_ offset: Int, in subject: UnsafeRawBufferPointer, end: Int) -> Int? {
        var i = offset
        while i < end {
            if subject[i] == 0x0A { return i + 1 }
            i += 1
        }
        return nil
    }

    /// Whether `regex` matches anywhere in `text` (allowlists, path filters).
    func isMatch(_ regex: PCRE2Regex, _ text: String) -> Bool {
        guard let (code, _) = regex.prepared() else { return false }
        var text = text
        return text.withUTF8 { buf in
            let raw = UnsafeRawBufferPointer(buf)
            guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
                // Empty subject: PCRE2 still needs a valid pointer.
                var empty: UInt8 = 0
                return pcre2_match_8(code, &empty, 0, 0, 0, matchData, context) >= 0
            }
            return pcre2_match_8(code, base, raw.count, 0, 0, matchData, context) >= 0
        }
    }
}

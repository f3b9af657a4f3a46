/// gitignore pattern semantics (negation, directory-only, anchoring, `*`, `?`, `[...]`, `**`),
/// compiled to PCRE2 regexes over paths relative to the directory holding the ignore file.
struct IgnoreRules {
    struct Pattern {
        var regex: PCRE2Regex
        var negated: Bool
        var directoryOnly: Bool
    }

    let patterns: [Pattern]

    /// Parses the text of one `.gitignore` file; lines that do not compile are skipped.
    init(text: String) {
        var result = [Pattern]()
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            // Trailing spaces are ignored unless escaped.
            while line.hasSuffix(" ") && !line.hasSuffix("\\ ") { line = line.dropLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            var negated = false
            if line.hasPrefix("!") { negated = true; line = line.dropFirst() }
            else if line.hasPrefix("\\!") || line.hasPrefix("\\#") { line = line.dropFirst() }
            var directoryOnly = false
            if line.hasSuffix("/") { directoryOnly = true; line = line.dropLast() }
            if line.isEmpty { continue }
            let anchored = line.dropLast().contains("/") || line.hasPrefix("/")
            if line.hasPrefix("/") { line = line.dropFirst() }
            let body = IgnoreRules.translate(String(line))
            let source = (anchored ? "^" : "^(?:.*/)?") + body + "$"
            if let regex = try? PCRE2Regex(source) {
                result.append(Pattern(regex: regex, negated: negated, directoryOnly: directoryOnly))
            }
        }
        patterns = result
    }

    /// The verdict of this file for `relativePath`: `true` ignored, `false` re-included, `nil` no opinion.
    func verdict(_ relativePath: String, isDirectory: Bool, matcher: PCRE2Matcher) -> Bool? {
        var verdict: Bool?
        for p in patterns where !p.directoryOnly || isDirectory {
            if matcher.isMatch(p.regex, relativePath) { verdict = !p.negated }
        }
        return verdict
    }

    /// Glob to regex: `**/` any leading dirs, `/**` everything below, `*` within a segment.
    static func translate(_ glob: String) -> String {
        var out = ""
        let chars = Array(glob)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "*":
                if i + 1 < chars.count && chars[i + 1] == "*" {
                    let atStart = i == 0 || chars[i - 1] == "/"
                    let atEnd = i + 2 == chars.count || chars[i + 2] == "/"
                    if atStart && atEnd {
                        if i + 2 < chars.count { out += "(?:.*/)?"; i += 3 } else { out += ".*"; i += 2 }
                        continue
                    }
                    out += "[^/]*"
                    i += 2
                    continue
                }
                out += "[^/]*"
            case "?":
                out += "[^/]"
            case "[":
                if let close = chars[(i + 1)...].firstIndex(of: "]"), close > i + 1 {
                    var cls = String(chars[(i + 1)..<close])
                    if cls.hasPrefix("!") { cls = "^" + cls.dropFirst() }
                    out += "[" + cls.replacingOccurrences(of: "\\", with: "\\\\") + "]"
                    i = close + 1
                    continue
                }
                out += "\\["
            case "\\":
                if i + 1 < chars.count { out += escape(chars[i + 1]); i += 2; continue }
            default:
                out += escape(c)
            }
            i += 1
        }
        return out
    }

    private static func escape(_ c: Character) -> String {
        c.isLetter || c.isNumber || c == "/" || c == "_" || c == "-" ? String(c) : "\\" + String(c)
    }
}

import Foundation

import Foundation
import Detection

/// Human-readable report for terminals and git hooks: one block per finding (location, rule,
/// redacted secret, commit, fingerprint, how to suppress it) and a summary line. Every value from
/// the scanned content is made inert first (control characters, ANSI escapes and bidi overrides
/// are shown as escapes), so a hostile file cannot rewrite the terminal.
enum TextReport {
    static func render(_ findings: [Finding], options: ReportOptions) -> String {
        let style = TextStyle(enabled: options.color)
        guard !findings.isEmpty else { return style.green("no leaks found") + "\n" }
        var out = ""
        for f in findings { out += block(f, style: style) + "\n" }
        let files = Set(findings.map(\.provenance.file)).count
        let summary = "\(findings.count) \(findings.count == 1 ? "finding" : "findings") in \(files) \(files == 1 ? "file" : "files")"
        out += style.boldRed(summary) + "\n"
        return out
    }

    private static func block(_ f: Finding, style: TextStyle) -> String {
        let p = f.provenance
        let location = "\(inert(p.file.isEmpty ? "<unknown>" : p.file)):\(f.startLine):\(f.startColumn)"
        var lines = ["\(style.bold(location))  \(style.red(inert(f.ruleID)))  \(inert(f.description))"]
        func field(_ label: String, _ value: String) {
            lines.append("  " + style.dim(label.padding(toLength: 13, withPad: " ", startingAt: 0)) + value)
        }
        field("Secret:", style.yellow(inert(f.secret.isEmpty ? f.match : f.secret)))
        if !p.symlinkFile.isEmpty { field("Symlink:", inert(p.symlinkFile)) }
        if !p.commit.isEmpty {
            var commit = inert(p.commit)
            if !p.author.isEmpty || !p.email.isEmpty {
                commit += " by " + inert(p.author)
                if !p.email.isEmpty { commit += (p.author.isEmpty ? "" : " ") + "<\(inert(p.email))>" }
            }
            if !p.date.isEmpty { commit += " on \(inert(p.date))" }
            field("Commit:", commit)
            if let subject = p.message.split(whereSeparator: \.isNewline).first, !subject.isEmpty {
                field("Message:", inert(String(subject)))
            }
        }
        if !p.link.isEmpty { field("Link:", inert(p.link)) }
        if !f.otherOccurrences.isEmpty {
            let n = f.otherOccurrences.count
            field("Also in:", "\(n) more \(n == 1 ? "place" : "places") (same blob)")
        }
        if !f.fingerprint.isEmpty { field("Fingerprint:", inert(f.fingerprint)) }
        let baseline = "or record it in a baseline (`sealant baseline create`, then scan with --baseline-path)"
        field("Suppress:", f.fingerprint.isEmpty
            ? "add a `sealant:allow` comment on the line, " + baseline
            : "add a `sealant:allow` comment on the line, add the fingerprint to .sealantignore, " + baseline)
        return lines.joined(separator: "\n") + "\n"
    }

    /// `s` with C0/C1 controls, DEL and bidirectional overrides replaced by visible escapes.
    static func inert(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7F..<0xA0:
                out += "\\x" + (v < 0x10 ? "0" : "") + String(v, radix: 16)
            case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                out += "\\u{" + String(v, radix: 16) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// ANSI styling that is a no-op when colour is off.
struct TextStyle {
    var enabled: Bool

    private func wrap(_ s: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
    }
    func bold(_ s: String) -> String { wrap(s, "1") }
    func dim(_ s: String) -> String { wrap(s, "2") }
    func red(_ s: String) -> String { wrap(s, "31") }
    func green(_ s: String) -> String { wrap(s, "32") }
    func yellow(_ s: String) -> String { wrap(s, "33") }
    func boldRed(_ s: String) -> String { wrap(s, "1;31") }
}

import ArgumentParser
import Detection
import Foundation
import GitHistory
import Reporting
import Rules
import Sealing

/// Flags that choose rules and filters, shared by every scanning command.
struct DetectionOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Configuration file (default: SEALANT_CONFIG, .sealant.toml or .gitleaks.toml at the scan root, then the built-in rules).")
    var config: String?

    @Option(name: .customLong("enable-rule"), help: "Only run these rule ids (repeatable).")
    var enableRule: [String] = []

    @Option(name: .customLong("baseline-path"), help: "A baseline (sealant baseline create) or earlier JSON report, sealant's or gitleaks': its findings are not reported again.")
    var baselinePath: String?

    @Option(name: [.short, .customLong("ignore-path")], help: "An ignore file, or a folder holding .sealantignore / .gitleaksignore (default: the scan root).")
    var ignorePath: String?

    @Flag(name: [.customLong("ignore-inline-allow"), .customLong("ignore-gitleaks-allow")], help: "Report findings even on lines marked sealant:allow or gitleaks:allow.")
    var ignoreInlineAllow = false

    @Option(name: .customLong("max-decode-depth"), help: "Layers of base64/hex/percent/unicode encoding to look through (0 disables).")
    var maxDecodeDepth: Int = 5

    @Flag(name: .customLong("no-cache"), help: "Do not read or write the compiled-rules cache.")
    var noCache = false

    /// Everything a scan needs besides its input.
    struct Context {
        var detector: Detector
        var ignoreList: IgnoreList
        var baseline: Baseline?
        /// File names of the scanner's own bookkeeping: ignore files and baselines hold fingerprints
        /// (or, with `baseline create --keep-secrets`, secrets already recorded), not new leaks.
        var ownFileNames: Set<String> = [".sealantignore", ".gitleaksignore", BaselineCommand.defaultPath]

        /// Drops findings listed in ignore files or the baseline, findings inside the scanner's own
        /// ignore and baseline files, and exact duplicates.
        /// The file name of a path (NSString's `lastPathComponent` was a fifth of the work after a
        /// scan with tens of thousands of findings).
        static func lastComponent(of path: String) -> String {
            guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
            return String(path[path.utf8.index(after: slash)...])
        }

        func suppress(_ findings: [Finding]) -> [Finding] {
            var seen = Set<String>()
            return findings.filter { f in
                if !ownFileNames.isEmpty && ownFileNames.contains(Self.lastComponent(of: f.file)) { return false }
                if ignoreList.ignores(f) { return false }
                if let baseline, baseline.contains(f) { return false }
                let key = "\(f.fingerprint)|\(f.commit)|\(f.startLine)|\(f.startColumn)"
                return seen.insert(key).inserted
            }
        }
    }

    func makeContext(scanRoot: String?) throws -> Context {
        let cache = noCache ? nil : DatabaseCache.standard()
        var ruleSet = try CLIError.wrap {
            try ConfigLoader.resolve(explicitPath: config, scanRoot: scanRoot, environment: ProcessInfo.processInfo.environment,
                                     builtInCache: cache?.directory)
        }
        if !enableRule.isEmpty {
            let known = Set(ruleSet.rules.map(\.id))
            if let unknown = enableRule.first(where: { !known.contains($0) }) {
                throw CLIError("--enable-rule \(unknown): no such rule in \(ruleSet.source)")
            }
            ruleSet.rules.removeAll { !enableRule.contains($0.id) }
        }
        let options = DetectorOptions(maxDecodeDepth: max(0, maxDecodeDepth), ignoreInlineAllow: ignoreInlineAllow)
        let detector = try CLIError.wrap { try Detector(ruleSet: ruleSet, options: options, cache: cache) }
        for fallback in detector.pcre2OnlyRules {
            printError("sealant: warning: rule \(fallback.id): Vectorscan cannot take its regex (\(fallback.reason)); using PCRE2 alone")
        }
        var context = Context(detector: detector, ignoreList: try loadIgnoreList(scanRoot: scanRoot), baseline: try loadBaseline())
        if let baselinePath { context.ownFileNames.insert((baselinePath as NSString).lastPathComponent) }
        return context
    }

    private func loadIgnoreList(scanRoot: String?) throws -> IgnoreList {
        var candidates = [String]()
        let base = ignorePath ?? scanRoot.map { root -> String in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: root, isDirectory: &isDir) && isDir.boolValue
                ? root : (root as NSString).deletingLastPathComponent
        } ?? "."
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: base, isDirectory: &isDir), !isDir.boolValue {
            candidates = [base]
        } else {
            let dir = base.isEmpty ? "." : base
            candidates = [dir + "/.sealantignore", dir + "/.gitleaksignore"]
        }
        var list = IgnoreList()
        for path in candidates {
            list.merge(try CLIError.wrap { try IgnoreList(contentsOf: path) })
        }
        return list
    }

    private func loadBaseline() throws -> Baseline? {
        guard let baselinePath else { return nil }
        guard let data = FileManager.default.contents(atPath: baselinePath) else {
            throw CLIError("\(baselinePath): cannot read baseline report")
        }
        let findings = try CLIError.wrap { try readReport(data, source: baselinePath) }
        return Baseline(findings: findings)
    }
}

/// Flags that shape the report, shared by every scanning command.
struct OutputOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("report-format")], help: "json, sarif, csv, junit, text, github or gitlab (default: from --report-path's extension, else text).")
    var reportFormat: String?

    @Option(name: [.short, .customLong("report-path")], help: "Write the report here ('-' = standard output, the default).")
    var reportPath: String = "-"

    @Option(name: .customLong("redact"), help: "Mask this percentage of every secret (bare --redact = 100).")
    var redact: Int?

    @Option(name: .customLong("exit-code"), help: "Exit status when findings are reported.")
    var exitCode: Int = 1

    @Flag(name: .customLong("no-color"), help: "No ANSI colour in text output.")
    var noColor = false

    @Flag(name: [.short, .long], help: "Print the summary line even when not on a terminal.")
    var verbose = false

    @Flag(name: .customLong("no-banner"), help: "Accepted for gitleaks compatibility; Sealant prints no banner.")
    var noBanner = false

    func validate() throws {
        if let redact, !(0...100).contains(redact) { throw ValidationError("--redact must be between 0 and 100") }
        if let reportFormat, ReportFormat(rawValue: reportFormat.lowercased()) == nil {
            throw ValidationError("unknown --report-format '\(reportFormat)' (use \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    var format: ReportFormat {
        if let reportFormat, let format = ReportFormat(rawValue: reportFormat.lowercased()) { return format }
        if reportPath != "-" { return ReportFormat(pathExtension: (reportPath as NSString).pathExtension) }
        return .text
    }

    var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    var showsProgress: Bool { stderrIsTerminal }

    /// Renders and writes the report (atomically when it goes to a file).
    func write(_ findings: [Finding], ruleSet: RuleSet, scanRoot: String?, started: Date) throws {
        let toStdout = reportPath == "-"
        let color = toStdout && !noColor && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let options = ReportOptions(redactPercent: redact, color: color, toolName: "sealant", toolVersion: SealantVersion.string,
                                    rules: ruleSet.rules, scanRoot: scanRoot, scanStarted: started, scanFinished: Date())
        let text = renderReport(findings, format: format, options: options)
        if toStdout {
            FileHandle.standardOutput.write(Data(text.utf8))
        } else {
            do {
                try AtomicFileWriter.write(text, to: reportPath)
            } catch {
                throw CLIError("\(reportPath): cannot write the report: \(error)")
            }
        }
    }

    /// One line on stderr: what was scanned, how fast, what was found.
    func summary(findings: [Finding], stats: ScanStats, started: Date, what: String) {
        guard verbose || stderrIsTerminal else { return }
        let seconds = Date().timeIntervalSince(started)
        let mb = Double(stats.bytes) / 1_048_576
        var skipped = [String]()
        if stats.skippedBinary > 0 { skipped.append("\(stats.skippedBinary) binary") }
        if stats.skippedLarge > 0 { skipped.append("\(stats.skippedLarge) over the size limit") }
        if stats.skippedAllowlisted > 0 { skipped.append("\(stats.skippedAllowlisted) allowlisted") }
        let skippedText = skipped.isEmpty ? "" : " (skipped: \(skipped.joined(separator: ", ")))"
        let found = findings.isEmpty ? "no leaks found" : "\(findings.count) finding\(findings.count == 1 ? "" : "s")"
        printError(String(format: "sealant: scanned %d %@, %.1f MB in %.2f s%@ — %@", stats.units, what, mb, seconds, skippedText, found))
    }
}

/// A progress line on stderr for long scans on a terminal: shown after 2 s, updated at most 5×/s.
final class ProgressLine: @unchecked Sendable {
    /// The line's text from units and bytes done and seconds elapsed.
    typealias Describe = @Sendable (_ units: Int, _ bytes: Int, _ elapsed: TimeInterval) -> String

    private let enabled: Bool
    private let describe: Describe
    private let started = Date()
    private let lock = NSLock()
    private var done = 0
    private var bytes = 0
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(enabled: Bool, describe: @escaping Describe) {
        self.enabled = enabled
        self.describe = describe
    }

    /// Files of a directory scan while the walk is still finding them (`found`).
    convenience init(enabled: Bool, found: FoundFiles) {
        self.init(enabled: enabled) { done, bytes, elapsed in
            let (total, complete) = found.count
            guard complete else {
                return String(format: "scanning: %d files (%d found so far), %.0f MB/s", done, total, Self.megabytesPerSecond(bytes, elapsed))
            }
            let eta = done > 0 && total > done ? elapsed * Double(total - done) / Double(done) : 0
            return String(format: "scanning: %d/%d files, %.0f MB/s, ETA %.0f s", done, total, Self.megabytesPerSecond(bytes, elapsed), eta)
        }
    }

    /// A history scan: commits walked of those selected (the walk runs at most a few batches ahead of
    /// the scanning), units scanned, throughput and the time left at the walk's pace.
    static func history(enabled: Bool, walk: WalkProgress, units: String) -> ProgressLine {
        ProgressLine(enabled: enabled) { done, bytes, elapsed in
            let total = walk.totalCommits, walked = walk.commitsWalked
            let eta = walked > 0 && total > walked ? elapsed * Double(total - walked) / Double(walked) : 0
            return String(format: "scanning history: %d/%d commits, %d %@, %.0f MB/s, ETA %.0f s",
                          walked, total, done, units, megabytesPerSecond(bytes, elapsed), eta)
        }
    }

    private static func megabytesPerSecond(_ bytes: Int, _ elapsed: TimeInterval) -> Double {
        elapsed > 0 ? Double(bytes) / 1_048_576 / elapsed : 0
    }

    /// Called by workers after each unit.
    func update(units: Int, bytes more: Int) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        done += units
        bytes += more
        let now = Date()
        let elapsed = now.timeIntervalSince(started)
        guard elapsed > 2, now.timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = now
        drawn = true
        printErrorNoNewline("\r\u{1B}[K" + describe(done, bytes, elapsed))
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { printErrorNoNewline("\r\u{1B}[K") }
    }
}

func printErrorNoNewline(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// Files a directory walk has found so far, for the progress line.
final class FoundFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var found = 0
    private var complete = false

    func add() {
        lock.lock()
        found += 1
        lock.unlock()
    }

    func finish() {
        lock.lock()
        complete = true
        lock.unlock()
    }

    var count: (Int, Bool) {
        lock.lock()
        defer { lock.unlock() }
        return (found, complete)
    }
}

import ArgumentParser
import Detection
import Foundation
import GitHistory

/// Flags choosing what part of a repository's history `sealant scan` covers.
struct GitOptions: ParsableArguments {
    @Option(name: .customLong("branch"), help: "Only these branches, tags or revisions and their history (repeatable; default: every ref).")
    var branches: [String] = []

    @Option(name: .customLong("since"), help: "Only commits committed at or after this date (YYYY-MM-DD or RFC 3339).")
    var since: String?

    @Option(name: .customLong("range"), help: "Commits in A..B, in diff mode (lines they add), as for a pull request.")
    var range: String?

    @Option(name: .customLong("since-ref"), help: "Commits not reachable from REF (e.g. origin/main), as for a pre-push hook.")
    var sinceRef: String?

    @Option(name: .customLong("max-count"), help: "Only the newest N commits of the selection.")
    var maxCount: Int?

    @Flag(name: .customLong("diff"), help: "Scan the lines each commit adds instead of every unique blob.")
    var diff = false

    @Flag(name: .customLong("exhaustive-diff"), help: "Diff mode: diff every commit, not only those whose new files could hold a finding (slower, same report).")
    var exhaustiveDiff = false

    @Flag(name: .customLong("staged"), help: "Scan what is staged (index against HEAD): the pre-commit check.")
    var staged = false

    @Flag(name: .customLong("pre-commit"), help: "With --staged: same. Alone: scan unstaged work-tree changes.")
    var preCommit = false

    @Flag(name: .customLong("all-occurrences"), help: "List every commit and path where a finding's content appears.")
    var allOccurrences = false

    @Flag(name: .customLong("recurse-submodules"), help: "Also scan the history of checked-out submodules.")
    var recurseSubmodules = false

    /// Whether any flag needs a repository.
    var usesGit: Bool {
        !branches.isEmpty || since != nil || range != nil || sinceRef != nil || maxCount != nil || diff || staged || preCommit
            || allOccurrences || recurseSubmodules
    }

    func validate() throws {
        if staged || preCommit {
            if range != nil || sinceRef != nil || !branches.isEmpty || since != nil || maxCount != nil || diff {
                throw ValidationError("--staged / --pre-commit scan the work tree's changes; they don't take commit selections")
            }
        }
        if range != nil && (sinceRef != nil || !branches.isEmpty) {
            throw ValidationError("--range replaces --branch and --since-ref; use one")
        }
        if exhaustiveDiff && !diff && range == nil { throw ValidationError("--exhaustive-diff applies to --diff and --range") }
        if let maxCount, maxCount < 1 { throw ValidationError("--max-count must be at least 1") }
        if let since, Self.parseDate(since) == nil { throw ValidationError("--since \(since): expected YYYY-MM-DD or an RFC 3339 date") }
    }

    static func parseDate(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: text)
    }

    var selection: CommitSelection {
        var selection = CommitSelection(tips: branches.isEmpty ? .allRefs : .revisions(branches),
                                        since: since.flatMap(Self.parseDate), range: range, maxCount: maxCount)
        if let sinceRef { selection.excludingReachableFrom = [sinceRef] }
        return selection
    }

    /// Runs the mode the flags select.
    func run(_ input: GitInput, maxBlobSize: Int?) throws -> (findings: [Finding], summary: GitInput.Summary) {
        do {
            if staged {
                let result = try input.scanDiff(.staged)
                try checkSomethingStaged(result.summary, input: input)
                return result
            }
            if preCommit { return try input.scanDiff(.unstaged(includeUntracked: false)) }
            if diff || range != nil { return try input.scanDiff(.commits(selection), exhaustive: exhaustiveDiff) }
            return try input.scanBlobs(selection: selection, maxBlobSize: maxBlobSize, recurseSubmodules: recurseSubmodules,
                                       allOccurrences: allOccurrences)
        } catch let error as GitHistoryError {
            throw CLIError(error.description)
        }
    }

    /// A hook framework that runs us with nothing staged (e.g. `pre-commit run --all-files`) would
    /// otherwise pass on zero bytes: say so and fail.
    private func checkSomethingStaged(_ summary: GitInput.Summary, input: GitInput) throws {
        guard summary.units == 0 else { return }
        if ProcessInfo.processInfo.environment["PRE_COMMIT"] != nil {
            throw CLIError("nothing is staged, so nothing was scanned; under `pre-commit run --all-files` use the `sealant` hook that scans files, or stage your changes")
        }
        printError("sealant: nothing is staged in \(input.repository.workTree ?? input.repository.gitDirectory); nothing to scan")
    }

    func reportSummary(_ summary: GitInput.Summary, findings: [Finding], started: Date, output: OutputOptions) {
        for path in summary.conflicted { printError("sealant: warning: \(path) has unresolved merge conflicts; both sides were scanned") }
        if summary.shallowBoundary > 0 {
            printError("sealant: note: shallow clone: findings at the \(summary.shallowBoundary) boundary commit(s) were introduced there or earlier (tag shallow-boundary)")
        }
        if summary.missing > 0 {
            printError("sealant: note: \(summary.missing) \(summary.missing == 1 ? "blob is" : "blobs are") missing from the object database (a partial clone?): not scanned")
        }
        guard output.verbose || output.stderrIsTerminal else { return }
        var stats = ScanStats()
        stats.units = summary.units
        stats.bytes = summary.bytes
        stats.skippedBinary = summary.binary
        stats.skippedLarge = summary.oversized
        var what = "blobs and messages from \(summary.commits) commits"
        if staged || preCommit {
            what = "changed files"
        } else if let diffed = summary.diffedCommits {
            what = "new blobs and changed files of \(summary.commits) commits (\(diffed) diffed: the others add no content that could hold a finding)"
        } else if diff || range != nil {
            what = "changed files in \(summary.commits) commits"
        }
        if summary.lfsPointers > 0 { what += ", \(summary.lfsPointers) LFS pointers not scanned" }
        output.summary(findings: findings, stats: stats, started: started, what: what)
    }
}

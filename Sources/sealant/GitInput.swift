import Detection
import Foundation
import GitHistory

/// Feeds git history to the detector: blob mode (every unique blob once), diff mode (added lines
/// per commit), staged and unstaged changes. Only wiring: the enumeration lives in GitHistory, the
/// detection in Detection.
struct GitInput {
    let repository: GitRepository
    let scan: ParallelScan
    let workers: Int
    /// Whether to draw a progress line on stderr (a terminal, long scans only).
    var showsProgress = false

    /// Counts for the summary line.
    struct Summary {
        var commits = 0
        var units = 0
        var bytes = 0
        var binary = 0
        var lfsPointers = 0
        var oversized = 0
        var missing = 0
        var shallowBoundary = 0
        var conflicted: [String] = []
        /// Diff mode with the prefilter: the commits diffed (those whose new content could hold a finding).
        var diffedCommits: Int?
    }

    /// Every unique blob reachable from `selection`, attributed to its first commit and path.
    func scanBlobs(selection: CommitSelection, maxBlobSize: Int?, recurseSubmodules: Bool, allOccurrences: Bool) throws
        -> (findings: [Finding], summary: Summary) {
        let collected = FindingCollector()
        let walk = WalkProgress()
        let progress = ProgressLine.history(enabled: showsProgress, walk: walk, units: "blobs")
        defer { progress.finish() }
        let scanner = BlobScanner(repository: repository, selection: selection,
                                  options: BlobScanOptions(workers: workers, maxBlobSize: maxBlobSize, includeCommitMessages: true,
                                                           recordAllOccurrences: allOccurrences, recurseSubmodules: recurseSubmodules),
                                  progress: walk)
        let scan = self.scan
        let result = try scanner.run(consumerPerWorker: {
            let detector = scan.detector.makeScanner()
            return { unit in
                progress.update(units: 1, bytes: unit.byteCount)
                if unit.isBinary || unit.isLFSPointer { return }
                // Path and commit id are all the detector needs (path and commit allowlists); author,
                // date and message are filled in only for the few units with findings.
                let path = unit.path.description
                var findings = unit.withUnsafeBytes { bytes in
                    scan.scan(buffer: bytes, provenance: Provenance(file: path, commit: unit.commit.id.description), scanner: detector)
                }
                guard !findings.isEmpty else { return }
                var provenance = Self.provenance(unit.commit, path: path)
                if unit.commit.isShallowBoundary { provenance.message = "[shallow clone boundary: introduced here or earlier] " + provenance.message }
                for i in findings.indices {
                    findings[i].provenance = provenance
                    if unit.commit.isShallowBoundary { findings[i].tags.append("shallow-boundary") }
                }
                collected.add(findings, bytes: unit.byteCount)
            }
        })
        var summary = Summary()
        summary.commits = result.commits
        summary.units = result.blobs + result.commitMessages
        summary.bytes = result.bytes
        summary.binary = result.binaryBlobs
        summary.lfsPointers = result.lfsPointers
        summary.oversized = result.oversizedBlobs.count
        summary.missing = result.missingBlobs.count
        summary.shallowBoundary = result.shallowBoundaryCommits.count
        var findings = collected.findings
        if allOccurrences {
            // The same blob in other commits and paths (recorded by the walk, not re-scanned).
            findings = attachOccurrences(findings, occurrences: result.occurrences)
        }
        return (FindingDeduplication.keepingFirstIntroduction(findings, listOthers: allOccurrences), summary)
    }

    /// Lines added by each selected commit (merges: relative to every parent), or by the staged or
    /// unstaged changes, with line numbers in the new file. For commits, only those `diffCandidates`
    /// leaves are diffed unless `exhaustive`: the same findings, without diffing every commit.
    func scanDiff(_ source: DiffSource, exhaustive: Bool = false) throws -> (findings: [Finding], summary: Summary) {
        var candidates: (commits: Set<ObjectID>, selected: Int, shallowBoundary: Int, blobs: Int, bytes: Int)?
        if case .commits(let selection) = source, !exhaustive { candidates = try diffCandidates(selection) }
        let collected = FindingCollector()
        let scan = self.scan
        let walk = WalkProgress()
        let progress = ProgressLine.history(enabled: showsProgress, walk: walk, units: "changed files")
        defer { progress.finish() }
        // Inside `git commit -a` / `git commit PATH` the hook must read git's temporary index.
        var indexFile: String?
        var isCommits = false
        if case .commits = source { isCommits = true } else { indexFile = ProcessInfo.processInfo.environment["GIT_INDEX_FILE"] }
        // Commits' messages are scanned too, as in blob mode: a token pasted into a message is a leak.
        let differ = DiffScanner(repository: repository, source: source, workers: workers, includeCommitMessages: isCommits,
                                 indexFile: indexFile, progress: walk, onlyCommits: candidates?.commits)
        let repository = self.repository
        let result = try differ.run(consumerPerWorker: {
            let detector = scan.detector.makeScanner()
            let manifests = ManifestContext(repository: repository)
            return { unit in
                progress.update(units: 1, bytes: unit.bytes.count)
                guard !unit.isBinary, !unit.isLFSPointer, !unit.addedLines.isEmpty else { return }
                let path = unit.path.description
                let bytes = unit.bytes
                let scanned = Provenance(file: path, commit: unit.commit?.id.description ?? "")
                var findings: [Finding]
                if let full = manifests.fullContent(of: unit) {
                    // A Kubernetes manifest is judged whole (a key added to a Secret is only a
                    // Secret value in its document); findings are kept where the change adds lines.
                    let added = Set(unit.addedLines.map(\.number))
                    findings = scan.scan(bytes: full, provenance: scanned, scanner: detector).filter { finding in
                        finding.startLine == 0 || (finding.startLine...max(finding.startLine, finding.endLine)).contains { added.contains($0) }
                    }
                } else {
                    findings = scan.scan(bytes: bytes, provenance: scanned, scanner: detector)
                    for i in findings.indices {
                        findings[i].startLine = unit.fileLineNumber(forUnitLine: findings[i].startLine) ?? findings[i].startLine
                        findings[i].endLine = unit.fileLineNumber(forUnitLine: findings[i].endLine) ?? findings[i].endLine
                    }
                }
                guard !findings.isEmpty else { return collected.add([], bytes: bytes.count) }
                let provenance = unit.commit.map { Self.provenance($0, path: path) } ?? Provenance(file: path)
                for i in findings.indices { findings[i].provenance = provenance }
                collected.add(findings, bytes: bytes.count)
            }
        })
        var summary = Summary()
        summary.commits = result.commits
        summary.units = result.files
        summary.bytes = collected.bytes
        summary.binary = result.binaryFiles
        summary.missing = result.missingContent
        summary.shallowBoundary = result.shallowBoundaryCommits.count
        summary.conflicted = result.conflictedPaths.map(\.description)
        if let candidates {
            summary.commits = candidates.selected
            summary.shallowBoundary = candidates.shallowBoundary
            summary.diffedCommits = candidates.commits.count
            summary.units += candidates.blobs
            summary.bytes += candidates.bytes
        }
        return (collected.findings, summary)
    }

    /// Diff mode's prefilter: the selected commits that can add a line with a finding. Every blob a
    /// selected commit introduces at a path (differs there from all of its parents: the only files diff
    /// mode reads lines from) is read once, in pack order as in blob mode, and judged whole at any path
    /// (`anyPath`: path conditions met, path and commit allowlists unmet, no decoding budget; manifest
    /// analyzers as at its first path) — a superset of what its added lines can yield, wherever it sits.
    /// Left are the commits introducing a flagged blob, a blob missing from the object database, a blob
    /// also at a path where other manifest analyzers apply, or content at a path a path-only rule names,
    /// and the commits whose message is flagged the same way;
    /// diffing only those gives the report diffing every commit gives (on git/git, 17 findings from
    /// 85,361 commits). `--exhaustive-diff` diffs every commit instead.
    private func diffCandidates(_ selection: CommitSelection) throws
        -> (commits: Set<ObjectID>, selected: Int, shallowBoundary: Int, blobs: Int, bytes: Int) {
        let walk = WalkProgress()
        let progress = ProgressLine.history(enabled: showsProgress, walk: walk, units: "blobs")
        defer { progress.finish() }
        var options = BlobScanOptions(workers: workers, maxBlobSize: nil, includeCommitMessages: true)
        options.seedsExcludedContent = false
        let introductions = Introductions(scanner: scan.detector.makeScanner())
        let scanner = BlobScanner(repository: repository, selection: selection, options: options, progress: walk,
                                  onOccurrence: { introductions.record($0, $1) })
        let flagged = FlaggedBlobs()
        let scan = self.scan
        let result = try scanner.run(consumerPerWorker: {
            let detector = scan.detector.makeScanner()
            return { unit in
                progress.update(units: 1, bytes: unit.byteCount)
                // Binary and LFS-pointer blobs too: libgit2's binary test is not git's, and a pointer's edited
                // lines are scanned as text.
                let holds = unit.withUnsafeBytes { bytes in
                    !scan.scan(buffer: bytes, provenance: Provenance(file: unit.path.description), scanner: detector, anyPath: true).isEmpty
                }
                guard holds else { return }
                switch unit.source {
                case .blob(let id): flagged.insert(id)
                case .commitMessage: flagged.insert(message: unit.commit.id)
                }
            }
        })
        let kept = flagged.all.union(result.missingBlobs.map(\.id)).union(introductions.mixedAnalyzerBlobs)
        let commits = introductions.commits(introducing: kept).union(flagged.messages)
        return (commits, result.commits, result.shallowBoundaryCommits.count, result.blobs + result.commitMessages, result.bytes)
    }

    static func provenance(_ commit: CommitMetadata, path: String) -> Provenance {
        var provenance = Provenance(file: path, commit: commit.id.description, author: commit.authorName, email: commit.authorEmail,
                                    date: commit.authorDate, message: trimmingNewlines(commit.message))
        provenance.order = commit.walkOrder
        return provenance
    }

    /// The message without leading and trailing line breaks (Foundation's `trimmingCharacters` goes
    /// through NSString and costs more than scanning a small blob).
    static func trimmingNewlines(_ text: String) -> String {
        let utf8 = text.utf8
        let isBreak = { (byte: UInt8) in byte == 0x0A || byte == 0x0D }
        guard let first = utf8.firstIndex(where: { !isBreak($0) }), let last = utf8.lastIndex(where: { !isBreak($0) }) else { return "" }
        return String(text[first...last])
    }

    /// Adds every recorded (commit, path) of the finding's blob to `otherOccurrences`.
    private func attachOccurrences(_ findings: [Finding], occurrences: [ObjectID: [BlobOccurrence]]) -> [Finding] {
        // Index occurrences by their first (commit, path), which is the provenance a finding carries.
        var byFirst = [String: [BlobOccurrence]]()
        for (_, list) in occurrences {
            guard let first = list.first else { continue }
            byFirst[first.commit.id.description + "\u{0}" + first.path.description] = list
        }
        return findings.map { finding in
            var f = finding
            if let list = byFirst[f.commit + "\u{0}" + f.file] {
                f.otherOccurrences = list.dropFirst().map { Self.provenance($0.commit, path: $0.path.description) }
            }
            return f
        }
    }
}

/// The whole new version of a changed Kubernetes manifest (YAML or JSON holding `kind`), read from
/// the object database (commits, staged changes) or the work tree (unstaged changes). One per worker.
final class ManifestContext {
    private let repository: GitRepository
    private var reader: BlobReader?
    private static let maxBytes = 8 << 20

    init(repository: GitRepository) { self.repository = repository }

    func fullContent(of unit: DiffUnit) -> [UInt8]? {
        guard KubernetesManifest.mayBeManifest(path: unit.path.description) else { return nil }
        var content: [UInt8]?
        if let blob = unit.blob {
            if reader == nil { reader = try? BlobReader(repository: repository) }
            content = try? reader?.read(blob, maxSize: Self.maxBytes)
        } else if unit.commit == nil, let workTree = repository.workTree {
            let url = URL(fileURLWithPath: workTree).appendingPathComponent(unit.path.description)
            if let data = FileManager.default.contents(atPath: url.path), data.count <= Self.maxBytes { content = [UInt8](data) }
        }
        guard let content, KubernetesManifest.hasMarker(content) else { return nil }
        return content
    }
}

/// What diff mode's prefilter keeps of the walk, in about 24 bytes per (blob, commit) introduction
/// instead of the commit and path `recordAllOccurrences` keeps (git/git: 61 MB less at the peak):
/// which commits introduce which blobs, the commits introducing content at a path a path-only rule
/// names, and the blobs also met at a path where other manifest analyzers apply than at their first
/// (the prefilter ran the analyzers as at the first). Used on the walking thread only.
final class Introductions: @unchecked Sendable {
    private let scanner: Detection.Scanner
    private var commitIndex: [ObjectID: UInt32] = [:]
    private var commitIDs: [ObjectID] = []
    private var entries: [(blob: ObjectID, commit: UInt32)] = []
    private var pathVerdicts: [GitPath: (namedByPathRule: Bool, analyzers: Int)] = [:]
    /// Distinct `Scanner.analyzerPaths` answers, numbered.
    private var analyzerSets: [[Bool]: Int] = [:]
    private var firstAnalyzers: [ObjectID: Int] = [:]
    private var namedCommits = Set<ObjectID>()
    private(set) var mixedAnalyzerBlobs = Set<ObjectID>()

    init(scanner: Detection.Scanner) { self.scanner = scanner }

    func record(_ blob: ObjectID, _ occurrence: BlobOccurrence) {
        let commit = occurrence.commit.id
        let index: UInt32
        if let known = commitIndex[commit] {
            index = known
        } else {
            index = UInt32(commitIDs.count)
            commitIndex[commit] = index
            commitIDs.append(commit)
        }
        entries.append((blob, index))
        let verdict = verdict(for: occurrence.path)
        if verdict.namedByPathRule { namedCommits.insert(commit) }
        if let first = firstAnalyzers[blob] {
            if first != verdict.analyzers { mixedAnalyzerBlobs.insert(blob) }
        } else {
            firstAnalyzers[blob] = verdict.analyzers
        }
    }

    /// The commits introducing any of `blobs`, and those introducing content at a path a path-only rule names.
    func commits(introducing blobs: Set<ObjectID>) -> Set<ObjectID> {
        var result = namedCommits
        for entry in entries where blobs.contains(entry.blob) { result.insert(commitIDs[Int(entry.commit)]) }
        return result
    }

    private func verdict(for path: GitPath) -> (namedByPathRule: Bool, analyzers: Int) {
        if let known = pathVerdicts[path] { return known }
        let text = path.description
        // An empty unit at `path`: only path-only rules can report, as located (path allowlists apply).
        let named = scanner.detector.hasPathOnlyRules
            && !scanner.scan(UnsafeRawBufferPointer(start: nil, count: 0), provenance: Provenance(file: text)).isEmpty
        let analyzers = scanner.analyzerPaths(text)
        let number: Int
        if let known = analyzerSets[analyzers] {
            number = known
        } else {
            number = analyzerSets.count
            analyzerSets[analyzers] = number
        }
        pathVerdicts[path] = (named, number)
        return (named, number)
    }
}

/// Blob ids, and commits by their message, flagged by diff mode's prefilter, from worker threads.
final class FlaggedBlobs: @unchecked Sendable {
    private let lock = NSLock()
    private var storage = Set<ObjectID>()
    private var messageCommits = Set<ObjectID>()

    func insert(_ id: ObjectID) {
        lock.lock()
        storage.insert(id)
        lock.unlock()
    }

    func insert(message commit: ObjectID) {
        lock.lock()
        messageCommits.insert(commit)
        lock.unlock()
    }

    var all: Set<ObjectID> {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }

    var messages: Set<ObjectID> {
        lock.lock()
        defer { lock.unlock() }
        return messageCommits
    }
}

/// Findings gathered from worker threads.
final class FindingCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var storage = [Finding]()
    private var byteCount = 0

    func add(_ findings: [Finding], bytes: Int) {
        lock.lock()
        storage += findings
        byteCount += bytes
        lock.unlock()
    }

    var findings: [Finding] {
        lock.lock()
        defer { lock.unlock() }
        return storage.sorted {
            ($0.provenance.order, $0.provenance.date, $0.commit, $0.file, $0.startLine, $0.ruleID)
                < ($1.provenance.order, $1.provenance.date, $1.commit, $1.file, $1.startLine, $1.ruleID)
        }
    }

    var bytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return byteCount
    }
}

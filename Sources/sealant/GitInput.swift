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
    }

    /// Every unique blob reachable from `selection`, attributed to its first commit and path.
    func scanBlobs(selection: CommitSelection, maxBlobSize: Int?, recurseSubmodules: Bool, allOccurrences: Bool) throws
        -> (findings: [Finding], summary: Summary) {
        let collected = FindingCollector()
        let scanner = BlobScanner(repository: repository, selection: selection,
                                  options: BlobScanOptions(workers: workers, maxBlobSize: maxBlobSize, includeCommitMessages: true,
                                                           recordAllOccurrences: allOccurrences, recurseSubmodules: recurseSubmodules))
        let scan = self.scan
        let result = try scanner.run(consumerPerWorker: {
            let detector = scan.detector.makeScanner()
            return { unit in
                if unit.isBinary || unit.isLFSPointer { return }
                var provenance = Self.provenance(unit.commit, path: unit.path.description)
                if unit.commit.isShallowBoundary { provenance.message = "[shallow clone boundary: introduced here or earlier] " + provenance.message }
                var findings = scan.scan(bytes: unit.bytes, provenance: provenance, scanner: detector)
                if unit.commit.isShallowBoundary {
                    for i in findings.indices { findings[i].tags.append("shallow-boundary") }
                }
                collected.add(findings, bytes: unit.bytes.count)
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
    /// unstaged changes, with line numbers in the new file.
    func scanDiff(_ source: DiffSource) throws -> (findings: [Finding], summary: Summary) {
        let collected = FindingCollector()
        let scan = self.scan
        // Inside `git commit -a` / `git commit PATH` the hook must read git's temporary index.
        var indexFile: String?
        if case .commits = source {} else { indexFile = ProcessInfo.processInfo.environment["GIT_INDEX_FILE"] }
        let differ = DiffScanner(repository: repository, source: source, workers: workers, indexFile: indexFile)
        let result = try differ.run(consumerPerWorker: {
            let detector = scan.detector.makeScanner()
            return { unit in
                guard !unit.isBinary, !unit.isLFSPointer, !unit.addedLines.isEmpty else { return }
                let provenance = unit.commit.map { Self.provenance($0, path: unit.path.description) } ?? Provenance(file: unit.path.description)
                let bytes = unit.bytes
                var findings = scan.scan(bytes: bytes, provenance: provenance, scanner: detector)
                for i in findings.indices {
                    findings[i].startLine = unit.fileLineNumber(forUnitLine: findings[i].startLine) ?? findings[i].startLine
                    findings[i].endLine = unit.fileLineNumber(forUnitLine: findings[i].endLine) ?? findings[i].endLine
                }
                collected.add(findings, bytes: bytes.count)
            }
        })
        var summary = Summary()
        summary.commits = result.commits
        summary.units = result.files
        summary.bytes = collected.bytes
        summary.binary = result.binaryFiles
        summary.shallowBoundary = result.shallowBoundaryCommits.count
        summary.conflicted = result.conflictedPaths.map(\.description)
        return (collected.findings, summary)
    }

    static func provenance(_ commit: CommitMetadata, path: String) -> Provenance {
        var provenance = Provenance(file: path, commit: commit.id.description, author: commit.authorName, email: commit.authorEmail,
                                    date: commit.authorDate, message: commit.message.trimmingCharacters(in: .newlines))
        provenance.order = commit.walkOrder
        return provenance
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

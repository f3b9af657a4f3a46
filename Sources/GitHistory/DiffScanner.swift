import Foundation

/// A line a change adds, numbered as in the new version of the file (1-based).
public struct AddedLine: Sendable, Hashable {
    public let number: Int
    /// The line without its `\n` or `\r\n`.
    public let bytes: [UInt8]

    public init(number: Int, bytes: [UInt8]) {
        self.number = number
        self.bytes = bytes
    }

    /// The line for display; invalid UTF-8 becomes U+FFFD.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// How a file changed.
public enum FileChange: Sendable, Hashable {
    case added
    case modified
    /// Renamed (possibly with edits): only the edited lines count as added.
    case renamed(from: GitPath)
    case copied(from: GitPath)
    /// File became a symlink or the reverse.
    case typeChanged
    /// A submodule's recorded commit changed (or the submodule was added); no lines to scan.
    case submoduleUpdated(to: ObjectID)
    /// An unmerged path in the index: the lines one side of the conflict adds relative to the merge base.
    case conflicted(side: ConflictSide)
    /// Not a file: the commit's message, one added line per message line (`includeCommitMessages`).
    case commitMessage
    /// The new or old content is not in the object database (a blob-filtered partial clone, a damaged
    /// mirror): no lines to give, counted in `DiffScanSummary.missingContent`.
    case missingContent
}

/// Which side of an unmerged path a conflicted unit comes from.
public enum ConflictSide: String, Sendable, Hashable {
    case ours
    case theirs
}

/// One file's added lines in one change: a commit, the staged changes or the unstaged changes.
public struct DiffUnit: Sendable {
    /// The commit that made the change; nil for staged and unstaged changes.
    public let commit: CommitMetadata?
    public let path: GitPath
    public let change: FileChange
    public let addedLines: [AddedLine]
    /// The new content is binary: no lines are given, the caller may read `blob` whole.
    public let isBinary: Bool
    /// The new content is a Git LFS pointer.
    public let isLFSPointer: Bool
    /// The new version's blob id, when it is in the object database (not for unstaged files).
    public let blob: ObjectID?

    /// The added lines joined by `\n`: the bytes to hand the detector.
    public var bytes: [UInt8] {
        var joined: [UInt8] = []
        joined.reserveCapacity(addedLines.reduce(0) { $0 + $1.bytes.count + 1 })
        for (index, line) in addedLines.enumerated() {
            if index > 0 { joined.append(UInt8(ascii: "\n")) }
            joined.append(contentsOf: line.bytes)
        }
        return joined
    }

    /// Maps a 1-based line of `bytes` back to the line number in the file.
    public func fileLineNumber(forUnitLine line: Int) -> Int? {
        addedLines.indices.contains(line - 1) ? addedLines[line - 1].number : nil
    }
}

/// What a diff scan covers.
public enum DiffSource: Sendable, Hashable {
    /// Each selected commit against its parent(s); a root or shallow-boundary commit against nothing.
    case commits(CommitSelection)
    /// The index against HEAD (against nothing before the first commit): what `git commit` would record.
    case staged
    /// The work tree against the index; untracked files too when asked.
    case unstaged(includeUntracked: Bool)
}

/// What a diff scan saw.
public struct DiffScanSummary: Sendable {
    public var commits = 0
    /// Units delivered.
    public var files = 0
    public var addedLines = 0
    public var binaryFiles = 0
    /// Changed files whose content the object database lacks (not read; blob mode skips them the same way).
    public var missingContent = 0
    /// Unmerged paths in the index (staged/unstaged modes), reported as `.conflicted` units as well.
    public var conflictedPaths: [GitPath] = []
    public var shallowBoundaryCommits: [ObjectID] = []

    public init() {}

    mutating func count(_ unit: DiffUnit) {
        files += 1
        addedLines += unit.addedLines.count
        if unit.isBinary { binaryFiles += 1 }
        if unit.change == .missingContent { missingContent += 1 }
    }

    mutating func absorb(_ other: DiffScanSummary) {
        commits += other.commits
        files += other.files
        addedLines += other.addedLines
        binaryFiles += other.binaryFiles
        missingContent += other.missingContent
        conflictedPaths += other.conflictedPaths
        shallowBoundaryCommits += other.shallowBoundaryCommits
    }
}

/// Added-lines scanning, the pre-commit and CI-range counterpart of `BlobScanner`: for each change,
/// the lines it adds with their line numbers in the new file. For a merge commit only lines new
/// relative to every parent count, i.e. the merge's own conflict resolutions.
public struct DiffScanner: Sendable {
    public let repository: GitRepository
    public let source: DiffSource
    /// Threads diffing commits and calling the consumer; 0 means one per core. Staged and unstaged
    /// scans run on the calling thread.
    public let workers: Int
    /// Commit mode: also deliver each commit's message as a `.commitMessage` unit at path
    /// `HistoryUnit.commitMessagePath`.
    public let includeCommitMessages: Bool
    /// Staged and unstaged modes: read this index file instead of the repository's (git's
    /// `GIT_INDEX_FILE`, which `git commit -a` and `git commit PATH` point at a temporary index while
    /// they hold `index.lock`; the lock is then the caller's own and not a reason to stop).
    public let indexFile: String?

    /// Commit mode: updated as commits are diffed, for a progress display.
    public let progress: WalkProgress?
    /// Commit mode: diff only these commits, which the caller took from the selection (diff mode's prefilter,
    /// which walked it already): the selection is not planned again, and `DiffScanSummary.commits` counts
    /// these. nil plans the selection and diffs every commit of it.
    public let onlyCommits: Set<ObjectID>?

    public init(repository: GitRepository, source: DiffSource, workers: Int = 0, includeCommitMessages: Bool = false,
                indexFile: String? = nil, progress: WalkProgress? = nil, onlyCommits: Set<ObjectID>? = nil) {
        self.repository = repository
        self.source = source
        self.workers = workers
        self.includeCommitMessages = includeCommitMessages
        self.indexFile = indexFile.flatMap { $0.isEmpty ? nil : $0 }
        self.progress = progress
        self.onlyCommits = onlyCommits
    }

    /// Diffs and calls `consumer` once per changed file with added lines (commit mode: from worker threads).
    public func run(_ consumer: @escaping @Sendable (DiffUnit) throws -> Void) throws -> DiffScanSummary {
        try run { consumer }
    }

    /// Like `run(_:)`, but each worker thread first calls `makeConsumer` and then feeds every unit it
    /// produces to the closure it got: the place for per-thread state such as a regex scratch space.
    public func run(consumerPerWorker makeConsumer: @escaping @Sendable () throws -> (DiffUnit) throws -> Void) throws -> DiffScanSummary {
        switch source {
        case .commits(let selection): return try scanCommits(selection, makeConsumer)
        case .staged:
            if let summary = try scanStagedFromIndexFile(makeConsumer) { return summary }
            return try scanIndex(mode: "staged", try makeConsumer()) { (handle, index) throws(GitHistoryError) in
            let head = try handle.headCommit().map { (id) throws(GitHistoryError) in try handle.lookupCommit(id).treeID }
            return try handle.diffTreeToIndex(tree: head, index: index)
        }
        case .unstaged(let includeUntracked): return try scanIndex(mode: "unstaged", try makeConsumer()) { (handle, index) throws(GitHistoryError) in
            try handle.diffIndexToWorkTree(index: index, includeUntracked: includeUntracked)
        }
        }
    }

    // MARK: Commits

    private func scanCommits(_ selection: CommitSelection,
                             _ makeConsumer: @escaping @Sendable () throws -> (DiffUnit) throws -> Void) throws -> DiffScanSummary {
        LibGit2.tune(for: .commitDiffs)
        let handle = try repository.openHandle()
        let diffed: [ObjectID]
        let boundary: Set<ObjectID>
        if let onlyCommits {
            diffed = Array(onlyCommits)
            boundary = repository.shallowRoots(commonDirectory: handle.commonDirectory).intersection(onlyCommits)
        } else {
            let plan = try CommitPlanner(repository: repository, handle: handle).plan(selection)
            diffed = plan.commits
            boundary = plan.shallowBoundary
        }
        let workerCount = WorkerThreads.resolve(workers)
        let queue = BoundedQueue<ArraySlice<ObjectID>>(capacity: workerCount * 4)
        let failure = Locked<(any Error)?>(nil)
        let totals = Locked(DiffScanSummary())
        let repository = self.repository
        let includeCommitMessages = self.includeCommitMessages
        let progress = self.progress
        progress?.planned(diffed.count)

        let threads = WorkerThreads(count: workerCount) { _ in
            var local = DiffScanSummary()
            do {
                let reader = try repository.openObjectReader()
                let consumer = try makeConsumer()
                while let batch = queue.pop() {
                    for id in batch {
                        for unit in try Self.diff(commit: id, isShallowBoundary: boundary.contains(id), handle: reader,
                                                  includeMessage: includeCommitMessages) {
                            local.count(unit)
                            try consumer(unit)
                        }
                        progress?.walked(1)
                    }
                }
            } catch {
                failure.withValue { if $0 == nil { $0 = error } }
                queue.abort()
            }
            totals.withValue { $0.absorb(local) }
        }
        var start = 0
        while start < diffed.count {
            let end = min(start + 16, diffed.count)
            guard queue.push(diffed[start..<end]) else { break }
            start = end
        }
        queue.finish()
        threads.join()
        if let error = failure.withValue({ $0 }) { throw error }
        var summary = totals.withValue { $0 }
        summary.commits = diffed.count
        summary.shallowBoundaryCommits = diffed.filter { boundary.contains($0) }
        return summary
    }

    /// The units of one commit. Merges keep, per path, the lines added relative to every parent.
    static func diff(commit id: ObjectID, isShallowBoundary: Bool, handle: RepositoryHandle,
                     includeMessage: Bool) throws(GitHistoryError) -> [DiffUnit] {
        let commit = try handle.lookupCommit(id)
        let metadata = commit.metadata(isShallowBoundary: isShallowBoundary)
        var units = includeMessage ? [messageUnit(metadata)] : []
        units += try fileUnits(commit: commit, metadata: metadata, isShallowBoundary: isShallowBoundary, handle: handle)
        return units
    }

    /// The message as numbered lines, so findings in it get a line number like any file.
    static func messageUnit(_ metadata: CommitMetadata) -> DiffUnit {
        let lines = metadata.message.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let added = lines.enumerated().map { AddedLine(number: $0.offset + 1, bytes: Array($0.element)) }
        return DiffUnit(commit: metadata, path: HistoryUnit.commitMessagePath, change: .commitMessage,
                        addedLines: added.last?.bytes.isEmpty == true ? Array(added.dropLast()) : added,
                        isBinary: false, isLFSPointer: false, blob: nil)
    }

    private static func fileUnits(commit: CommitHandle, metadata: CommitMetadata, isShallowBoundary: Bool,
                                  handle: RepositoryHandle) throws(GitHistoryError) -> [DiffUnit] {
        let parents = isShallowBoundary ? [] : commit.parentIDs.filter { handle.contains($0) }
        let tree = commit.treeID
        guard parents.count > 1 else {
            let parentTree = try parents.first.map { (p) throws(GitHistoryError) in try handle.lookupCommit(p).treeID }
            return try handle.diffTrees(old: parentTree, new: tree).compactMap { unit(from: $0, commit: metadata) }
        }
        // Only a path whose content differs from every parent's can hold a line new to all of them, and a
        // clean merge has none: which paths changed is settled first, from the trees alone (no rename
        // detection, no blob read), and added lines are then read for those paths only. Diffing a merge
        // against its second parent otherwise reads, diffs and pairs for renames everything the other
        // branch changed since the branch point (in git/git's history, thousands of files per merge).
        let parentTrees = try parents.map { (id) throws(GitHistoryError) in try handle.lookupCommit(id).treeID }
        var changesPerParent: [[FilePatch]] = []
        var remaining: Set<GitPath>?
        for parentTree in parentTrees {
            // After the first parent only the paths still in question are compared: libgit2 then skips every
            // other subtree (against the parent whose branch changed much, that is most of the tree).
            let changes = try handle.diffTrees(old: parentTree, new: tree, findRenames: false, patches: .none, paths: remaining)
            let changed = Set(changes.lazy.filter { $0.status != .deleted }.map(\.newPath))
            let candidates = remaining.map { $0.intersection(changed) } ?? changed
            if candidates.isEmpty { return [] }
            remaining = candidates
            changesPerParent.append(changes)
        }
        let candidates = remaining ?? []
        var perParent: [[GitPath: FilePatch]] = []
        for (index, (parentTree, changes)) in zip(parentTrees, changesPerParent).enumerated() {
            // A path new to this parent may be one of its files renamed (then only the edits count): the files
            // this parent loses are compared as well, as rename sources for those paths. The first parent's
            // diff above lists them; the others' covered the candidates only.
            let renames = changes.contains { $0.status == .added && candidates.contains($0.newPath) }
            var paths = candidates
            if renames {
                let whole = index == 0 ? changes
                    : try handle.diffTrees(old: parentTree, new: tree, findRenames: false, patches: .none)
                for change in whole where change.status == .deleted { paths.insert(change.oldPath) }
            }
            let patches = try handle.diffTrees(old: parentTree, new: tree, findRenames: renames, patches: .only(candidates),
                                               paths: paths)
            var byPath: [GitPath: FilePatch] = [:]
            for patch in patches where patch.status != .deleted { byPath[patch.newPath] = patch }
            perParent.append(byPath)
        }
        var units: [DiffUnit] = []
        for (path, firstPatch) in perParent[0].sorted(by: { $0.key < $1.key }) {
            var merged = firstPatch
            var keep = true
            for other in perParent.dropFirst() {
                guard let patch = other[path] else { keep = false; break }
                let numbers = Set(patch.addedLines.map(\.number))
                merged.addedLines = merged.addedLines.filter { numbers.contains($0.number) }
                merged.isBinary = merged.isBinary && patch.isBinary
            }
            if keep, let unit = unit(from: merged, commit: metadata) { units.append(unit) }
        }
        return units
    }

    static func unit(from patch: FilePatch, commit: CommitMetadata?) -> DiffUnit? {
        let change: FileChange
        if patch.newMode == FileMode.gitlink {
            guard patch.status != .deleted else { return nil }
            change = .submoduleUpdated(to: patch.newID)
        } else {
            switch patch.status {
            case .deleted, .conflicted, .unreadable: return nil
            case .added: change = .added
            case .modified: change = .modified
            case .renamed: change = .renamed(from: patch.oldPath)
            case .copied: change = .copied(from: patch.oldPath)
            case .typeChanged: change = .typeChanged
            case .missing: change = .missingContent
            }
            guard !patch.addedLines.isEmpty || patch.isBinary || change == .missingContent else { return nil }
        }
        let isPointer = patch.addedLines.first.map { $0.number == 1 && $0.bytes.starts(with: ContentKind.lfsPointerPrefix) } ?? false
        let zero = ObjectID(high: 0, middle: 0, low: 0)
        return DiffUnit(commit: commit, path: patch.newPath, change: change, addedLines: patch.addedLines,
                        isBinary: patch.isBinary, isLFSPointer: isPointer, blob: patch.newID == zero ? nil : patch.newID)
    }

    // MARK: Index

    /// The staged changes found by reading the index file directly and comparing it with HEAD
    /// through the cache tree (see `IndexFile`): what a pre-commit hook in a large repository
    /// needs to be instant. nil when libgit2 must do it: an index layout `IndexFile` does not read
    /// (or a corrupt one, which libgit2 then reports), unmerged paths, or a possible edited rename (a
    /// path gone and another new with other content: libgit2's similarity detection decides which
    /// lines are really added). Exact renames are settled here.
    private func scanStagedFromIndexFile(_ makeConsumer: () throws -> (DiffUnit) throws -> Void) throws -> DiffScanSummary? {
        guard !repository.isBare else { throw GitHistoryError.bareRepository(path: repository.gitDirectory, mode: "staged") }
        let indexPath: String
        if let indexFile {
            indexPath = indexFile
        } else {
            let lockPath = repository.gitDirectory + "index.lock"
            if FileManager.default.fileExists(atPath: lockPath) { throw GitHistoryError.indexLocked(lockPath: lockPath) }
            indexPath = repository.gitDirectory + "index"
        }
        guard let index = IndexFile.read(path: indexPath), !index.hasUnmergedEntries else { return nil }
        let handle = try repository.openObjectReader()
        let headTree = try handle.headCommit().map { (id) throws(GitHistoryError) in try handle.lookupCommit(id).treeID }
        var diff = StagedDiff(index: index, handle: handle)
        try diff.run(headTree: headTree)
        var changes = diff.changes
        // Only an added path can be the other half of a rename.
        if changes.contains(where: { $0.old == nil }) && (diff.hasTypeChanges || !diff.deletedEntries.isEmpty) {
            if diff.hasTypeChanges { return nil }
            let (deletedBlobs, hasSubmodule) = try diff.deletedBlobs()
            if hasSubmodule { return nil }
            // A new path holding exactly a deleted path's content is a rename that adds no line (what
            // libgit2's rename detection reports as R100: `git mv`). Anything else pairing a deleted and
            // a new path could be an edited rename: libgit2's similarity measure decides those.
            var deleted = [ObjectID: Int]()
            for id in deletedBlobs { deleted[id, default: 0] += 1 }
            changes.removeAll { change in
                guard change.old == nil, change.new.mode != FileMode.gitlink, let left = deleted[change.new.id], left > 0 else { return false }
                deleted[change.new.id] = left - 1
                return true
            }
            if deleted.values.contains(where: { $0 > 0 }) && changes.contains(where: { $0.old == nil }) { return nil }
        }
        let consumer = try makeConsumer()
        var summary = DiffScanSummary()
        for change in changes {
            var patch = FilePatch(status: change.old == nil ? .added : .modified, oldPath: change.path, newPath: change.path,
                                  oldMode: change.old?.mode ?? 0, newMode: change.new.mode, newID: change.new.id,
                                  isBinary: false, addedLines: [])
            if change.new.mode != FileMode.gitlink {
                (patch.addedLines, patch.isBinary) = try handle.addedLines(from: change.old?.id, to: change.new.id)
            }
            guard let unit = Self.unit(from: patch, commit: nil) else { continue }
            summary.count(unit)
            try consumer(unit)
        }
        return summary
    }

    private func scanIndex(mode: String, _ consumer: (DiffUnit) throws -> Void,
                           diff: (RepositoryHandle, IndexHandle) throws(GitHistoryError) -> [FilePatch]) throws -> DiffScanSummary {
        let handle = try repository.openHandle()
        guard !repository.isBare else { throw GitHistoryError.bareRepository(path: repository.gitDirectory, mode: mode) }
        let index: IndexHandle
        if let indexFile {
            index = try handle.loadIndex(at: indexFile)
        } else {
            let lockPath = repository.gitDirectory + "index.lock"
            if FileManager.default.fileExists(atPath: lockPath) { throw GitHistoryError.indexLocked(lockPath: lockPath) }
            index = try handle.loadIndex()
        }
        var summary = DiffScanSummary()
        for patch in try diff(handle, index) {
            guard let unit = Self.unit(from: patch, commit: nil) else { continue }
            summary.count(unit)
            try consumer(unit)
        }
        if index.hasConflicts {
            for conflict in try index.conflicts() {
                summary.conflictedPaths.append(conflict.path)
                for (side, blob) in [(ConflictSide.ours, conflict.ours), (.theirs, conflict.theirs)] {
                    guard let blob else { continue }
                    let (lines, isBinary) = try handle.addedLines(from: conflict.ancestor, to: blob)
                    guard !lines.isEmpty || isBinary else { continue }
                    let unit = DiffUnit(commit: nil, path: conflict.path, change: .conflicted(side: side), addedLines: lines,
                                        isBinary: isBinary, isLFSPointer: false, blob: blob)
                    summary.count(unit)
                    try consumer(unit)
                }
            }
        }
        return summary
    }
}

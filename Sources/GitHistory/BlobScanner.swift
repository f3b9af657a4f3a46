import Foundation

/// One thing to scan from history: a blob's bytes or a commit message, with first-seen provenance.
public struct HistoryUnit: Sendable {
    /// What the bytes are.
    public enum Source: Sendable, Hashable {
        /// A file's content, read once however many commits and paths hold it.
        case blob(ObjectID)
        /// The message of `commit` (tokens pasted in messages are leaks too).
        case commitMessage
    }

    public let source: Source
    /// The content: a commit message's own bytes, or a blob's where libgit2 holds them.
    private let content: Content
    /// The earliest selected commit holding the blob (for a message: its own commit).
    public let commit: CommitMetadata
    /// The blob's path in that commit; `HistoryUnit.commitMessagePath` for messages.
    public let path: GitPath
    /// NUL in the first 8000 bytes, as git decides.
    public let isBinary: Bool
    /// The content is a Git LFS pointer; the real file lives on the LFS server.
    public let isLFSPointer: Bool

    /// The path given to commit-message units.
    public static let commitMessagePath: GitPath = "<commit message>"

    private enum Content: Sendable {
        case owned([UInt8])
        case loaded(LoadedBlob)
    }

    init(source: Source, bytes: [UInt8], commit: CommitMetadata, path: GitPath, isBinary: Bool, isLFSPointer: Bool) {
        self.init(source: source, content: .owned(bytes), commit: commit, path: path, isBinary: isBinary, isLFSPointer: isLFSPointer)
    }

    init(source: Source, blob: LoadedBlob, commit: CommitMetadata, path: GitPath, isBinary: Bool, isLFSPointer: Bool) {
        self.init(source: source, content: .loaded(blob), commit: commit, path: path, isBinary: isBinary, isLFSPointer: isLFSPointer)
    }

    private init(source: Source, content: Content, commit: CommitMetadata, path: GitPath, isBinary: Bool, isLFSPointer: Bool) {
        self.source = source
        self.content = content
        self.commit = commit
        self.path = path
        self.isBinary = isBinary
        self.isLFSPointer = isLFSPointer
    }

    /// The content's size in bytes.
    public var byteCount: Int { withUnsafeBytes { $0.count } }

    /// The content without a copy, for the duration of `body`.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        switch content {
        case .owned(let bytes): return try bytes.withUnsafeBytes(body)
        case .loaded(let blob): return try body(blob.bytes)
        }
    }

    /// A copy of the content (`withUnsafeBytes` reads it in place).
    public var bytes: [UInt8] { withUnsafeBytes { [UInt8]($0) } }
}

/// Where else a blob appeared, recorded when `BlobScanOptions.recordAllOccurrences` is on.
public struct BlobOccurrence: Sendable, Hashable {
    public let commit: CommitMetadata
    public let path: GitPath
}

/// A blob that was not read: larger than `BlobScanOptions.maxBlobSize`, or absent from the object
/// database (partial clones, damaged mirrors), with where it first appeared.
public struct SkippedBlob: Sendable, Hashable {
    public let id: ObjectID
    /// The size from the object header; nil for a missing blob.
    public let size: Int?
    public let commit: CommitMetadata
    public let path: GitPath
}

/// Tuning and policy for a blob scan.
public struct BlobScanOptions: Sendable, Hashable {
    /// Threads reading blobs and calling the consumer; 0 means one per core.
    public var workers: Int
    /// Blobs larger than this many bytes are skipped and listed in the summary; nil reads everything.
    public var maxBlobSize: Int?
    /// Deliver each selected commit's message as a unit of its own.
    public var includeCommitMessages: Bool
    /// Record every commit and path that introduces each blob (differs from all of its parents there),
    /// not only the first; costs memory proportional to history.
    public var recordAllOccurrences: Bool
    /// Scan the history of submodules whose repositories are present (`git submodule update --init`).
    public var recurseSubmodules: Bool
    /// Treat the content of the selection's excluded parents (the commits just outside `A..B`, `--since`, ...)
    /// as already seen, so only content new to the selection is read. Off, in the comparing walk
    /// (`recordAllOccurrences`, `BlobScanner.onOccurrence`), every blob a selected commit introduces at a
    /// path is read, even one an excluded commit held at another path: what diff mode's prefilter needs,
    /// since such a blob is added lines there.
    public var seedsExcludedContent = true
    /// Read packed blobs with Sealant's own pack reader (libgit2 still reads everything else, and any
    /// object the pack reader cannot); false reads every blob through libgit2, for comparison.
    public var readPacksDirectly = true

    public init(workers: Int = 0, maxBlobSize: Int? = nil, includeCommitMessages: Bool = true,
                recordAllOccurrences: Bool = false, recurseSubmodules: Bool = false) {
        self.workers = workers
        self.maxBlobSize = maxBlobSize
        self.includeCommitMessages = includeCommitMessages
        self.recordAllOccurrences = recordAllOccurrences
        self.recurseSubmodules = recurseSubmodules
    }
}

/// What a blob scan walked, read and skipped.
public struct BlobScanSummary: Sendable {
    public var commits = 0
    public var commitMessages = 0
    /// Unique blobs delivered to the consumer.
    public var blobs = 0
    public var bytes = 0
    public var binaryBlobs = 0
    public var lfsPointers = 0
    public var oversizedBlobs: [SkippedBlob] = []
    /// Blobs trees refer to but the object database lacks (a `--filter=blob:none` clone, a damaged
    /// mirror): skipped rather than failing the whole audit.
    public var missingBlobs: [SkippedBlob] = []
    /// Commits at a shallow clone's boundary.
    public var shallowBoundaryCommits: [ObjectID] = []
    /// Gitlink paths (submodules) met in trees.
    public var submodulePaths: [GitPath] = []
    /// Submodules whose own history was scanned (`recurseSubmodules`).
    public var scannedSubmodules: [GitPath] = []
    /// Every introducing (commit, path) per blob, oldest first, when `recordAllOccurrences` is on.
    public var occurrences: [ObjectID: [BlobOccurrence]] = [:]

    public init() {}

    mutating func absorb(_ other: BlobScanSummary) {
        commits += other.commits
        commitMessages += other.commitMessages
        blobs += other.blobs
        bytes += other.bytes
        binaryBlobs += other.binaryBlobs
        lfsPointers += other.lfsPointers
        oversizedBlobs += other.oversizedBlobs
        missingBlobs += other.missingBlobs
        shallowBoundaryCommits += other.shallowBoundaryCommits
        submodulePaths += other.submodulePaths
        scannedSubmodules += other.scannedSubmodules
        occurrences.merge(other.occurrences) { $0 + $1 }
    }
}

/// Full-history audit: every unique blob reachable from the selected commits, read once, with the
/// commit and path where it first appeared. The walk runs on the calling thread and keeps only sets
/// of object ids; `options.workers` threads read blob contents and call the consumer concurrently.
public struct BlobScanner: Sendable {
    public let repository: GitRepository
    public let selection: CommitSelection
    public let options: BlobScanOptions
    /// Updated as the walk goes, for a progress display; nil when nobody watches.
    public let progress: WalkProgress?
    /// Called on the walking thread, in walk order, for every blob a selected commit introduces at a path
    /// (differs there from all of its parents): the comparing walk of `recordAllOccurrences`, without
    /// keeping the occurrences (the caller keeps what it needs, e.g. diff mode's prefilter).
    public let onOccurrence: (@Sendable (ObjectID, BlobOccurrence) -> Void)?

    public init(repository: GitRepository, selection: CommitSelection = .allRefs, options: BlobScanOptions = .init(),
                progress: WalkProgress? = nil, onOccurrence: (@Sendable (ObjectID, BlobOccurrence) -> Void)? = nil) {
        self.repository = repository
        self.selection = selection
        self.options = options
        self.progress = progress
        self.onOccurrence = onOccurrence
    }

    /// Walks and reads everything, calling `consumer` from worker threads. A throwing consumer stops
    /// the scan and its error is rethrown. Returns once every unit was consumed.
    public func run(_ consumer: @escaping @Sendable (HistoryUnit) throws -> Void) throws -> BlobScanSummary {
        try run(pathPrefix: nil) { consumer }
    }

    /// Like `run(_:)`, but each worker thread first calls `makeConsumer` and then feeds every unit it
    /// reads to the closure it got: the place for per-thread state such as a regex scratch space.
    public func run(consumerPerWorker makeConsumer: @escaping @Sendable () throws -> (HistoryUnit) throws -> Void) throws -> BlobScanSummary {
        try run(pathPrefix: nil, makeConsumer)
    }

    private func run(pathPrefix: GitPath?,
                     _ makeConsumer: @escaping @Sendable () throws -> (HistoryUnit) throws -> Void) throws -> BlobScanSummary {
        let comparesParents = options.recordAllOccurrences || onOccurrence != nil
        LibGit2.tune(for: comparesParents ? .occurrenceWalk : .blobWalk)
        let handle = try repository.openHandle()
        let plan = try CommitPlanner(repository: repository, handle: handle).plan(selection)
        progress?.planned(plan.commits.count)
        let workerCount = WorkerThreads.resolve(options.workers)
        // Room for a whole window of pack-ordered jobs (see `PackOrderedDispatch`): the walk goes on
        // with the next window while the readers work through this one, instead of both waiting.
        let queue = BoundedQueue<[PlacedJob]>(capacity: workerCount * 4 + PackOrderedDispatch.largestWindow / PackOrderedDispatch.batchSize)
        let failure = Locked<(any Error)?>(nil)
        let totals = Locked(BlobScanSummary())
        let repository = self.repository
        let maxBlobSize = options.maxBlobSize
        let packIndex = PackIndex(objectsDirectory: handle.commonDirectory + "objects")
        let packs = options.readPacksDirectly ? PackStore(index: packIndex) : nil

        let workers = WorkerThreads(count: workerCount) { _ in
            var local = BlobScanSummary()
            do {
                let reader = BlobLoader(libgit2: try repository.openObjectReader(), packs: packs?.makeReader())
                let consumer = try makeConsumer()
                while let batch = queue.pop() {
                    for placed in batch { try Self.perform(placed, reader: reader, maxBlobSize: maxBlobSize, pathPrefix: pathPrefix,
                                                           summary: &local, consumer: consumer) }
                }
            } catch {
                failure.withValue { if $0 == nil { $0 = error } }
                queue.abort()
            }
            totals.withValue { $0.absorb(local) }
        }

        var walker = TreeWalker(handle: handle, recordOccurrences: options.recordAllOccurrences, onOccurrence: onOccurrence)
        var walkError: (any Error)?
        do {
            if options.seedsExcludedContent { try walker.seed(withCommits: plan.excludedParents) }
            var dispatch = PackOrderedDispatch(index: packIndex, queue: queue)
            walk: for (order, id) in plan.commits.enumerated() {
                let commit = try handle.lookupCommit(id)
                var metadata = commit.metadata(isShallowBoundary: plan.shallowBoundary.contains(id))
                metadata.walkOrder = order + 1
                if options.includeCommitMessages { dispatch.add(.message(metadata)) }
                try walker.walk(commit: commit, metadata: metadata,
                                parents: metadata.isShallowBoundary ? [] : commit.parentIDs) { job in dispatch.add(job) }
                progress?.walked(1)
                guard dispatch.flushIfFull() else { break walk }
            }
            _ = dispatch.flush()
            queue.finish()
        } catch {
            walkError = error
            queue.abort()
        }
        workers.join()
        if let walkError { throw walkError }
        if let error = failure.withValue({ $0 }) { throw error }

        var summary = totals.withValue { $0 }
        summary.commits = plan.commits.count
        summary.shallowBoundaryCommits = plan.commits.filter { plan.shallowBoundary.contains($0) }
        func located(_ path: GitPath) -> GitPath { pathPrefix.map { path.prefixed(by: $0) } ?? path }
        summary.submodulePaths = walker.gitlinkPaths.map(located)
        summary.occurrences = pathPrefix == nil ? walker.occurrences : walker.occurrences.mapValues { list in
            list.map { BlobOccurrence(commit: $0.commit, path: located($0.path)) }
        }
        if options.recurseSubmodules {
            for path in walker.gitlinkPaths {
                guard let submoduleHandle = handle.openSubmodule(at: path) else { continue }
                let prefix = located(path)
                // Each level puts its own gitlink path before the nested one's occurrences.
                var nestedObserver: (@Sendable (ObjectID, BlobOccurrence) -> Void)?
                if let observe = onOccurrence {
                    nestedObserver = { @Sendable id, occurrence in
                        observe(id, BlobOccurrence(commit: occurrence.commit, path: occurrence.path.prefixed(by: path)))
                    }
                }
                let nested = BlobScanner(repository: GitRepository(submoduleHandle), selection: .allRefs, options: options,
                                         progress: progress, onOccurrence: nestedObserver)
                var nestedSummary = try nested.run(pathPrefix: prefix, makeConsumer)
                nestedSummary.scannedSubmodules.append(prefix)
                summary.absorb(nestedSummary)
            }
        }
        return summary
    }

    private static func perform(_ placed: PlacedJob, reader: BlobLoader, maxBlobSize: Int?, pathPrefix: GitPath?,
                                summary: inout BlobScanSummary,
                                consumer: (HistoryUnit) throws -> Void) throws {
        switch placed.job {
        case .message(let commit):
            summary.commitMessages += 1
            try consumer(HistoryUnit(source: .commitMessage, bytes: Array(commit.message.utf8), commit: commit,
                                     path: HistoryUnit.commitMessagePath, isBinary: false, isLFSPointer: false))
        case .blob(let id, let rawPath, let commit):
            let path = pathPrefix.map { rawPath.prefixed(by: $0) } ?? rawPath
            switch try reader.load(id, at: placed.location, maxSize: maxBlobSize) {
            case .notABlob:
                return
            case .oversized(let size):
                summary.oversizedBlobs.append(SkippedBlob(id: id, size: size, commit: commit, path: path))
            case .missing:
                summary.missingBlobs.append(SkippedBlob(id: id, size: nil, commit: commit, path: path))
            case .content(let blob):
                let isBinary = ContentKind.isBinary(blob.bytes)
                let isPointer = ContentKind.isLFSPointer(blob.bytes)
                summary.blobs += 1
                summary.bytes += blob.bytes.count
                if isBinary { summary.binaryBlobs += 1 }
                if isPointer { summary.lfsPointers += 1 }
                try consumer(HistoryUnit(source: .blob(id), blob: blob, commit: commit, path: path,
                                         isBinary: isBinary, isLFSPointer: isPointer))
            }
        }
    }
}

/// Work handed from the walk to the readers.
enum BlobJob: Sendable {
    case blob(ObjectID, GitPath, CommitMetadata)
    case message(CommitMetadata)
}

/// A job and where its blob sits in the packs.
struct PlacedJob: Sendable {
    let job: BlobJob
    let location: PackIndex.Location
}

/// A reader's way to a blob: packed blobs through the pack reader, everything else, and anything the
/// pack reader cannot read, through libgit2 (which then also reports what is wrong).
struct BlobLoader {
    let libgit2: RepositoryHandle
    let packs: PackReader?

    func load(_ id: ObjectID, at location: PackIndex.Location, maxSize: Int?) throws(GitHistoryError) -> BlobLoad {
        if let packs, location != .unpacked {
            do {
                switch try packs.read(location, maxSize: maxSize) {
                case .object(let object):
                    return object.type == 3 ? .content(LoadedBlob(packed: object)) : .notABlob
                case .oversized(let type, let size):
                    return type == 3 ? .oversized(size: size) : .notABlob
                }
            } catch {
                // Fall through: libgit2 reads it or says what is wrong.
            }
        }
        return try libgit2.loadBlob(id, maxSize: maxSize)
    }
}

/// Hands the walk's jobs to the readers in pack order, a window at a time: the walk finds blobs
/// newest commit first, which is close to but not the order of the pack, and reading in pack order
/// finds a delta's base in the pack reader's cache instead of inflating the chain again (see
/// `PackIndex`, `PackReader`). Windows keep the readers busy while the walk goes on and bound the memory held.
struct PackOrderedDispatch {
    let index: PackIndex
    let queue: BoundedQueue<[PlacedJob]>
    private var blobs: [PlacedJob] = []
    private var messages: [PlacedJob] = []
    /// The first window is small so the readers start at once; later ones are larger.
    private var windowSize = 2048
    static let largestWindow = 32768
    static let batchSize = 64

    init(index: PackIndex, queue: BoundedQueue<[PlacedJob]>) {
        self.index = index
        self.queue = queue
    }

    mutating func add(_ job: BlobJob) {
        switch job {
        case .blob(let id, _, _): blobs.append(PlacedJob(job: job, location: index.location(of: id)))
        case .message: messages.append(PlacedJob(job: job, location: .unpacked))
        }
    }

    /// Sends the window when it is full; false when the readers stopped.
    mutating func flushIfFull() -> Bool {
        guard blobs.count >= windowSize || messages.count >= windowSize else { return true }
        windowSize = min(windowSize * 2, Self.largestWindow)
        return flush()
    }

    /// Sends everything held, blobs sorted by where they sit in the packs; false when the readers stopped.
    mutating func flush() -> Bool {
        defer {
            blobs.removeAll(keepingCapacity: true)
            messages.removeAll(keepingCapacity: true)
        }
        var start = 0
        while start < messages.count {
            let end = min(start + Self.batchSize * 4, messages.count)
            guard queue.push(Array(messages[start..<end])) else { return false }
            start = end
        }
        // Stable: blobs outside every pack keep the walk's order.
        let sorted = blobs.enumerated().sorted { ($0.element.location, $0.offset) < ($1.element.location, $1.offset) }
        start = 0
        while start < sorted.count {
            let end = min(start + Self.batchSize, sorted.count)
            guard queue.push(sorted[start..<end].map(\.element)) else { return false }
            start = end
        }
        return true
    }
}

/// Walks commit trees, descending only into trees it has not seen, so each unique blob is reported
/// once, at the first commit (in walk order) and path holding it. Unchanged subtrees have the same id
/// as in an earlier commit and are skipped without being read: that is what makes the walk cheap.
struct TreeWalker {
    let handle: RepositoryHandle
    let recordOccurrences: Bool
    let onOccurrence: ((ObjectID, BlobOccurrence) -> Void)?
    /// Compare each commit's trees with its parents' (occurrence mode) instead of skipping seen trees.
    let comparesParents: Bool
    private var seenTrees = ObjectIDSet()
    private var seenBlobs = ObjectIDSet()
    private var seenGitlinks = Set<GitPath>()
    private(set) var gitlinkPaths: [GitPath] = []
    private(set) var occurrences: [ObjectID: [BlobOccurrence]] = [:]
    /// Occurrence mode reads a commit's changed trees again as its children's parent trees.
    private var recentTrees = RecentTrees()

    init(handle: RepositoryHandle, recordOccurrences: Bool, onOccurrence: ((ObjectID, BlobOccurrence) -> Void)?) {
        self.handle = handle
        self.recordOccurrences = recordOccurrences
        self.onOccurrence = onOccurrence
        self.comparesParents = recordOccurrences || onOccurrence != nil
    }

    /// Marks everything in these commits' trees as already seen (content that predates the selection).
    mutating func seed(withCommits commits: [ObjectID]) throws(GitHistoryError) {
        for id in commits {
            let tree = try handle.lookupCommit(id).treeID
            try walkUnseen(tree: tree, prefix: []) { _, _ in }
        }
    }

    mutating func walk(commit: CommitHandle, metadata: CommitMetadata, parents: [ObjectID],
                       emit: (BlobJob) -> Void) throws(GitHistoryError) {
        let tree = commit.treeID
        if comparesParents {
            // A parent missing from the object database (a graft, a damaged mirror) is left out, as diff mode does.
            let parentTrees = try parents.filter { handle.contains($0) }.map { (id) throws(GitHistoryError) in try handle.lookupCommit(id).treeID }
            try walkChanges(tree: tree, parentTrees: parentTrees, prefix: [], metadata: metadata, emit: emit)
        } else {
            try walkUnseen(tree: tree, prefix: []) { (id, path) in emit(.blob(id, path, metadata)) }
        }
    }

    private mutating func walkUnseen(tree id: ObjectID, prefix: [UInt8],
                                     emit: (ObjectID, GitPath) -> Void) throws(GitHistoryError) {
        guard seenTrees.insert(id) else { return }
        let tree = try handle.readTree(id)
        for entry in tree.entries {
            switch entry.mode & FileMode.typeMask {
            case FileMode.tree:
                if !seenTrees.contains(entry.id) {
                    try walkUnseen(tree: entry.id, prefix: prefix + tree.name(of: entry) + [UInt8(ascii: "/")], emit: emit)
                }
            case FileMode.gitlink:
                noteGitlink(GitPath(bytes: prefix + tree.name(of: entry)))
            default:
                if seenBlobs.insert(entry.id) { emit(entry.id, GitPath(bytes: prefix + tree.name(of: entry))) }
            }
        }
    }

    /// Occurrence mode: compares against every parent's tree at the same path; an entry counts as
    /// introduced here when it differs from all parents (a merge only introduces its own resolutions).
    /// Trees list their entries in git's order, so each parent's tree is compared in one pass beside
    /// this one, and only the entries that changed are named (a dictionary of names per parent tree
    /// made git/git's occurrence walk four times slower than the blob walk).
    private mutating func walkChanges(tree id: ObjectID, parentTrees: [ObjectID?], prefix: [UInt8],
                                      metadata: CommitMetadata, emit: (BlobJob) -> Void) throws(GitHistoryError) {
        if parentTrees.contains(where: { $0 == id }) { return }
        let tree = try recentTrees.tree(id, handle: handle)
        let parents = try parentTrees.map { (parent) throws(GitHistoryError) -> RawTree? in
            try parent.map { (p) throws(GitHistoryError) in try recentTrees.tree(p, handle: handle) }
        }
        var cursors = [Int](repeating: 0, count: parents.count)
        var matched = [RawTree.Entry?](repeating: nil, count: parents.count)
        for entry in tree.entries {
            var unchanged = false
            for (index, parent) in parents.enumerated() {
                matched[index] = nil
                guard let parent else { continue }
                var cursor = cursors[index]
                var order = 1
                while cursor < parent.entries.count {
                    order = parent.order(of: parent.entries[cursor], against: entry, in: tree)
                    if order >= 0 { break }
                    cursor += 1
                }
                cursors[index] = cursor
                if order == 0 {
                    matched[index] = parent.entries[cursor]
                    if parent.entries[cursor].id == entry.id { unchanged = true }
                }
            }
            if unchanged { continue }
            let name = tree.name(of: entry)
            switch entry.mode & FileMode.typeMask {
            case FileMode.tree:
                // `order` is zero only for a subtree of the same name: a file replaced by a directory has none.
                let parentSubtrees = matched.map { $0?.id }
                try walkChanges(tree: entry.id, parentTrees: parentSubtrees, prefix: prefix + name + [UInt8(ascii: "/")],
                                metadata: metadata, emit: emit)
            case FileMode.gitlink:
                noteGitlink(GitPath(bytes: prefix + name))
            default:
                let path = GitPath(bytes: prefix + name)
                let occurrence = BlobOccurrence(commit: metadata, path: path)
                if recordOccurrences { occurrences[entry.id, default: []].append(occurrence) }
                onOccurrence?(entry.id, occurrence)
                if seenBlobs.insert(entry.id) { emit(.blob(entry.id, path, metadata)) }
            }
        }
    }

    private mutating func noteGitlink(_ path: GitPath) {
        if seenGitlinks.insert(path).inserted { gitlinkPaths.append(path) }
    }
}

/// The trees read most recently, parsed: two generations of up to `generation` trees each, the older
/// dropped when the newer fills (a tree used again moves to the newer).
struct RecentTrees {
    private var newer: [ObjectID: RawTree] = [:]
    private var older: [ObjectID: RawTree] = [:]
    private let generation = 128

    mutating func tree(_ id: ObjectID, handle: RepositoryHandle) throws(GitHistoryError) -> RawTree {
        if let tree = newer[id] { return tree }
        let tree: RawTree
        if let known = older.removeValue(forKey: id) { tree = known } else { tree = try handle.readTree(id) }
        if newer.count >= generation {
            older = newer
            newer.removeAll(keepingCapacity: true)
        }
        newer[id] = tree
        return tree
    }
}

import Foundation

/// The parts of a git index file a staged scan needs, read straight from disk: each entry's path,
/// mode, blob id and stage, and the cache tree (`TREE` extension) git keeps up to date for
/// unchanged directories. libgit2 1.5 builds a full in-memory index with a hash map and verifies
/// the trailing SHA-1 on every load (tens of milliseconds for 50k entries, read twice by
/// `git_repository_index`); a pre-commit hook only needs to find the handful of changed paths.
///
/// Only the common layouts are read: versions 2, 3 and 4 (prefix-compressed paths, what
/// `feature.manyFiles` turns on in large repositories), no split index (`link`), no sparse index
/// (`sdir`), no other required extension, no intent-to-add or skip-worktree entries. For anything
/// else, or any inconsistency (truncation, bad padding, unsorted paths), `read` returns nil and
/// the caller uses libgit2, which reports a corrupt index precisely. The trailing checksum is not
/// verified (as with git's `index.skipHash`): the structure checks catch truncated or foreign files.
struct IndexFile {
    /// Where one entry lies in the file (16 bytes, not the ~56 of a decoded entry: a 60k-entry
    /// index would fault in 3 MB of fresh memory for fields read for a handful of entries).
    struct Entry {
        /// Where the entry starts in the file.
        let offset: UInt32
        /// Where its path starts in `pathBytes`.
        let pathStart: UInt32
        let pathCount: Int32
        let stage: UInt8
    }

    /// One cache-tree node: a directory whose tree id is known (`id` nil when invalidated by a
    /// change since the last `git write-tree`/commit).
    final class CacheTreeNode {
        let id: ObjectID?
        var children: [[UInt8]: CacheTreeNode] = [:]

        init(id: ObjectID?) { self.id = id }
    }

    /// The mapped file; `bytes` points into it.
    let file: MappedFile
    var bytes: UnsafeRawBufferPointer { file.bytes }
    /// Version 4: the paths spelled out (the file stores each as a change to the previous one).
    let expandedPaths: ByteStore?
    /// Where entry paths are: in the file (versions 2 and 3) or in `expandedPaths`.
    var pathBytes: UnsafeRawBufferPointer { expandedPaths?.bytes ?? file.bytes }
    let entries: [Entry]
    let cacheTree: CacheTreeNode?

    func path(of entry: Entry) -> Slice<UnsafeRawBufferPointer> {
        pathBytes[Int(entry.pathStart)..<(Int(entry.pathStart) + Int(entry.pathCount))]
    }
    func mode(of entry: Entry) -> UInt32 { Self.be32(bytes, Int(entry.offset) + 24) }
    func id(of entry: Entry) -> ObjectID { Self.objectID(bytes, Int(entry.offset) + 40) }
    /// Whether any entry is unmerged (stage 1–3: a conflict).
    let hasUnmergedEntries: Bool

    /// The index at `path`, or nil when it is missing or not in a layout read here.
    static func read(path: String) -> IndexFile? {
        MappedFile(path: path).flatMap(parse)
    }

    static func parse(_ file: MappedFile) -> IndexFile? {
        let bytes = file.bytes
        let hashSize = 20
        guard bytes.count >= 12 + hashSize, bytes[0..<4].elementsEqual("DIRC".utf8) else { return nil }
        let version = be32(bytes, 4)
        guard version == 2 || version == 3 || version == 4 else { return nil }
        let count = Int(be32(bytes, 8))
        let end = bytes.count - hashSize
        guard end <= Int(UInt32.max) else { return nil }
        // One pass over raw memory: a pre-commit hook reads every entry of a large repository's
        // index (60k entries: ~8 ms through bounds-checked array slices, ~1 ms this way).
        let parsed = { () -> (entries: [Entry], cursor: Int, unmerged: Bool, paths: ByteStore?)? in
            let raw = bytes
            guard let base = raw.baseAddress else { return nil }
            var entries = [Entry]()
            entries.reserveCapacity(count)
            // Version 4 paths, spelled out one after another.
            var expanded = [UInt8]()
            var current = [UInt8]()
            var cursor = 12
            var previousStart = -1, previousCount = 0
            var previousStage: UInt8 = 0
            var unmerged = false
            for _ in 0..<count {
                guard cursor + 62 <= end else { return nil }
                let flags = UInt16(raw[cursor + 60]) << 8 | UInt16(raw[cursor + 61])
                // Extended flags (v3): intent-to-add and skip-worktree entries follow libgit2's rules.
                if flags & 0x4000 != 0 { return nil }
                let nameLength = Int(flags & 0x0FFF)
                let stage = UInt8((flags >> 12) & 3)
                let pathStart: Int, pathCount: Int, entrySize: Int
                if version == 4 {
                    // `<strip>` (git's offset varint: bytes to drop from the previous path) then the
                    // NUL-terminated rest; no padding.
                    var at = cursor + 62
                    guard at < end else { return nil }
                    var byte = raw[at]
                    var strip = Int(byte & 0x7f)
                    at += 1
                    while byte & 0x80 != 0 {
                        guard at < end, strip < 1 << 24 else { return nil }
                        byte = raw[at]
                        strip = ((strip + 1) << 7) | Int(byte & 0x7f)
                        at += 1
                    }
                    guard strip <= current.count, let nul = memchr(base + at, 0, end - at) else { return nil }
                    let suffixEnd = base.distance(to: UnsafeRawPointer(nul))
                    current.removeLast(strip)
                    current.append(contentsOf: raw[at..<suffixEnd])
                    pathStart = expanded.count
                    expanded.append(contentsOf: current)
                    pathCount = current.count
                    guard nameLength == 0x0FFF ? pathCount >= 0x0FFF : pathCount == nameLength else { return nil }
                    entrySize = suffixEnd + 1 - cursor
                } else {
                    pathStart = cursor + 62
                    var pathEnd = pathStart + nameLength
                    if nameLength == 0x0FFF {
                        guard let nul = memchr(base + pathStart, 0, end - pathStart) else { return nil }
                        pathEnd = base.distance(to: UnsafeRawPointer(nul))
                    }
                    guard pathEnd < end, raw[pathEnd] == 0 else { return nil }
                    pathCount = pathEnd - pathStart
                    entrySize = (pathEnd - cursor + 8) & ~7
                }
                guard cursor + entrySize <= end else { return nil }
                if previousStart >= 0 {
                    // Sorted by path, then stage: anything else is not an index git wrote.
                    let common = min(previousCount, pathCount)
                    var order = version == 4
                        ? expanded.withUnsafeBytes { Int(memcmp($0.baseAddress! + previousStart, $0.baseAddress! + pathStart, common)) }
                        : Int(memcmp(base + previousStart, base + pathStart, common))
                    if order == 0 { order = previousCount - pathCount }
                    guard order < 0 || (order == 0 && previousStage < stage) else { return nil }
                }
                entries.append(Entry(offset: UInt32(cursor), pathStart: UInt32(pathStart), pathCount: Int32(pathCount), stage: stage))
                unmerged = unmerged || stage != 0
                previousStart = pathStart
                previousCount = pathCount
                previousStage = stage
                cursor += entrySize
            }
            return (entries, cursor, unmerged, version == 4 ? ByteStore(expanded) : nil)
        }()
        guard let (entries, entriesEnd, unmerged, expandedPaths) = parsed else { return nil }
        var cursor = entriesEnd
        var cacheTree: CacheTreeNode?
        while cursor + 8 <= end {
            let signature = bytes[cursor..<(cursor + 4)]
            let size = Int(be32(bytes, cursor + 4))
            let body = cursor + 8
            guard size >= 0, body + size <= end else { return nil }
            if signature.elementsEqual("TREE".utf8) {
                var at = body
                cacheTree = parseCacheTree(bytes, at: &at, end: body + size)
            } else if let first = signature.first, first >= UInt8(ascii: "a") && first <= UInt8(ascii: "z") {
                return nil  // a required extension (split or sparse index, ...) this reader does not know
            }
            cursor = body + size
        }
        guard cursor == end else { return nil }
        return IndexFile(file: file, expandedPaths: expandedPaths, entries: entries, cacheTree: cacheTree, hasUnmergedEntries: unmerged)
    }

    /// One node and its subtrees, in git's pre-order layout: `name\0<entries> <subtrees>\n[id]`.
    private static func parseCacheTree(_ bytes: UnsafeRawBufferPointer, at cursor: inout Int, end: Int) -> CacheTreeNode? {
        while cursor < end, bytes[cursor] != 0 { cursor += 1 }
        guard cursor < end else { return nil }
        cursor += 1
        func number(until terminator: UInt8) -> Int? {
            var negative = false
            var value = 0
            var digits = 0
            if cursor < end, bytes[cursor] == UInt8(ascii: "-") { negative = true; cursor += 1 }
            while cursor < end, bytes[cursor] != terminator {
                let digit = Int(bytes[cursor]) - Int(UInt8(ascii: "0"))
                guard (0...9).contains(digit), digits < 10 else { return nil }
                value = value * 10 + digit
                digits += 1
                cursor += 1
            }
            guard cursor < end, digits > 0 else { return nil }
            cursor += 1
            return negative ? -value : value
        }
        guard let entryCount = number(until: UInt8(ascii: " ")), let subtrees = number(until: UInt8(ascii: "\n")) else { return nil }
        var id: ObjectID?
        if entryCount >= 0 {
            guard cursor + 20 <= end else { return nil }
            id = objectID(bytes, cursor)
            cursor += 20
        }
        let node = CacheTreeNode(id: id)
        for _ in 0..<max(0, subtrees) {
            let childName = cursor
            guard let child = parseCacheTree(bytes, at: &cursor, end: end) else { return nil }
            var nameEnd = childName
            while bytes[nameEnd] != 0 { nameEnd += 1 }
            node.children[Array(bytes[childName..<nameEnd])] = child
        }
        return node
    }

    private static func be32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    private static func objectID(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> ObjectID {
        ObjectID(high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)),
                 middle: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)),
                 low: UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: at + 16, as: UInt32.self)))
    }
}

/// A file mapped read-only (and populated: the whole file is read) for as long as this object lives.
/// Git replaces an index by renaming a new file over it, so the mapped contents never change.
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    /// nil when the file cannot be opened or mapped, or is empty.
    init?(path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_size > 0 else { return nil }
        let size = Int(info.st_size)
        guard let start = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, descriptor, 0), start != MAP_FAILED else { return nil }
        bytes = UnsafeRawBufferPointer(start: start, count: size)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }
}

/// Bytes copied into memory this object owns, readable as a raw buffer for its whole life.
final class ByteStore: @unchecked Sendable {
    private let memory: UnsafeMutableRawBufferPointer
    let bytes: UnsafeRawBufferPointer

    init(_ contents: [UInt8]) {
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, contents.count), alignment: 1)
        contents.withUnsafeBytes { memory.copyMemory(from: $0) }
        self.memory = memory
        bytes = UnsafeRawBufferPointer(rebasing: memory[0..<contents.count])
    }

    deinit { memory.deallocate() }
}

/// One path whose staged version differs from HEAD's.
struct StagedChange {
    let path: GitPath
    /// HEAD's blob and mode, nil when the path is new (or changed between file and directory).
    let old: (id: ObjectID, mode: UInt32)?
    let new: (id: ObjectID, mode: UInt32)
}

/// HEAD's tree against an `IndexFile`, skipping every directory whose cache-tree id equals HEAD's
/// tree id: the index-side half of `git diff --cached`, reading only the trees on changed paths.
struct StagedDiff {
    let index: IndexFile
    let handle: RepositoryHandle
    private(set) var changes: [StagedChange] = []
    /// Entries of HEAD gone from the index (deleted or renamed files, directories, submodules); see
    /// `deletedBlobs`.
    private(set) var deletedEntries: [(id: ObjectID, mode: UInt32)] = []
    /// A path changed between file and directory: rename pairing here cannot settle it, libgit2 decides.
    private(set) var hasTypeChanges = false

    init(index: IndexFile, handle: RepositoryHandle) {
        self.index = index
        self.handle = handle
    }

    mutating func run(headTree: ObjectID?) throws(GitHistoryError) {
        try compare(tree: headTree, prefix: [], range: 0..<index.entries.count, node: index.cacheTree)
    }

    private mutating func compare(tree: ObjectID?, prefix: [UInt8], range: Range<Int>, node: IndexFile.CacheTreeNode?) throws(GitHistoryError) {
        if let tree, let cached = node?.id, cached == tree { return }
        guard let tree else {
            for i in range { added(i) }
            return
        }
        let raw = try handle.readTree(tree)
        var remaining = Dictionary(raw.entries.map { (raw.name(of: $0), $0) }, uniquingKeysWith: { first, _ in first })
        var i = range.lowerBound
        while i < range.upperBound {
            let entry = index.entries[i]
            let path = index.path(of: entry)
            let rest = path.dropFirst(prefix.count)
            if let slash = rest.firstIndex(of: UInt8(ascii: "/")) {
                // A directory: all entries below it are contiguous in index order.
                let name = Array(rest[rest.startIndex..<slash])
                let childPrefix = prefix + name + [UInt8(ascii: "/")]
                var low = i + 1
                var high = range.upperBound
                while low < high {  // first entry past the directory (binary search: skipping stays cheap)
                    let middle = (low + high) / 2
                    if index.path(of: index.entries[middle]).starts(with: childPrefix) { low = middle + 1 } else { high = middle }
                }
                let j = low
                let headEntry = remaining.removeValue(forKey: name)
                var subtree: ObjectID?
                if let headEntry {
                    if headEntry.mode & FileMode.typeMask == FileMode.tree { subtree = headEntry.id } else { hasTypeChanges = true }
                }
                try compare(tree: subtree, prefix: childPrefix, range: i..<j, node: node?.children[name])
                i = j
            } else {
                let name = Array(rest)
                if let headEntry = remaining.removeValue(forKey: name) {
                    if headEntry.mode & FileMode.typeMask == FileMode.tree {
                        hasTypeChanges = true
                        added(i)
                    } else if headEntry.id != index.id(of: entry) || headEntry.mode != index.mode(of: entry) {
                        let mode = index.mode(of: entry)
                        let sameKind = headEntry.mode & FileMode.typeMask == mode & FileMode.typeMask
                        changes.append(StagedChange(path: GitPath(bytes: Array(path)),
                                                    old: sameKind ? (headEntry.id, headEntry.mode) : nil,
                                                    new: (index.id(of: entry), mode)))
                    }
                } else {
                    added(i)
                }
                i += 1
            }
        }
        deletedEntries += remaining.values.map { ($0.id, $0.mode) }
    }

    /// The blobs of `deletedEntries` (every blob below a deleted directory), and whether a submodule
    /// is among them (rename pairing here cannot settle that). Read only when an added path could be
    /// a rename: a commit that only deletes a large directory reads none of its trees.
    func deletedBlobs() throws(GitHistoryError) -> (blobs: [ObjectID], hasSubmodule: Bool) {
        var blobs: [ObjectID] = []
        var hasSubmodule = false
        var pending = deletedEntries
        while let (id, mode) = pending.popLast() {
            switch mode & FileMode.typeMask {
            case FileMode.tree: pending += try handle.readTree(id).entries.map { ($0.id, $0.mode) }
            case FileMode.gitlink: hasSubmodule = true
            default: blobs.append(id)
            }
        }
        return (blobs, hasSubmodule)
    }

    private mutating func added(_ i: Int) {
        let entry = index.entries[i]
        changes.append(StagedChange(path: GitPath(bytes: Array(index.path(of: entry))), old: nil, new: (index.id(of: entry), index.mode(of: entry))))
    }
}

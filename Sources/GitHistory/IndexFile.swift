import Foundation

/// The parts of a git index file a staged scan needs, read straight from disk: each entry's path,
/// mode, blob id and stage, and the cache tree (`TREE` extension) git keeps up to date for
/// unchanged directories. libgit2 1.5 builds a full in-memory index with a hash map and verifies
/// the trailing SHA-1 on every load (tens of milliseconds for 50k entries, read twice by
/// `git_repository_index`); a pre-commit hook only needs to find the handful of changed paths.
///
/// Only the common layouts are read: versions 2 and 3, no split index (`link`), no sparse index
/// (`sdir`), no other required extension, no intent-to-add or skip-worktree entries. For anything
/// else, or any inconsistency (truncation, bad padding, unsorted paths), `read` returns nil and
/// the caller uses libgit2, which reports a corrupt index precisely. The trailing checksum is not
/// verified (as with git's `index.skipHash`): the structure checks catch truncated or foreign files.
struct IndexFile {
    struct Entry {
        let mode: UInt32
        let id: ObjectID
        let stage: UInt8
        /// Where the path lies in `bytes`.
        let pathStart: Int
        let pathCount: Int
    }

    /// One cache-tree node: a directory whose tree id is known (`id` nil when invalidated by a
    /// change since the last `git write-tree`/commit).
    final class CacheTreeNode {
        let id: ObjectID?
        var children: [[UInt8]: CacheTreeNode] = [:]

        init(id: ObjectID?) { self.id = id }
    }

    let bytes: [UInt8]
    let entries: [Entry]
    let cacheTree: CacheTreeNode?

    func path(of entry: Entry) -> ArraySlice<UInt8> { bytes[entry.pathStart..<(entry.pathStart + entry.pathCount)] }

    /// The index at `path`, or nil when it is missing or not in a layout read here.
    static func read(path: String) -> IndexFile? {
        readBytes(path).flatMap(parse)
    }

    /// The whole file in one buffer, read straight into it (no intermediate `Data` copy of a
    /// several-megabyte index).
    private static func readBytes(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_size >= 0 else { return nil }
        let size = Int(info.st_size)
        var complete = true
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var done = 0
            while done < size {
                let got = Foundation.read(descriptor, buffer.baseAddress! + done, size - done)
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { break }
                done += got
            }
            complete = done == size
            count = done
        }
        return complete ? bytes : nil
    }

    static func parse(_ bytes: [UInt8]) -> IndexFile? {
        let hashSize = 20
        guard bytes.count >= 12 + hashSize, bytes[0..<4].elementsEqual("DIRC".utf8) else { return nil }
        let version = be32(bytes, 4)
        guard version == 2 || version == 3 else { return nil }
        let count = Int(be32(bytes, 8))
        let end = bytes.count - hashSize
        var entries = [Entry]()
        entries.reserveCapacity(count)
        var cursor = 12
        var previous: Entry?
        for _ in 0..<count {
            guard cursor + 62 <= end else { return nil }
            let mode = be32(bytes, cursor + 24)
            let id = objectID(bytes, cursor + 40)
            let flags = UInt16(bytes[cursor + 60]) << 8 | UInt16(bytes[cursor + 61])
            let pathStart = cursor + 62
            // Extended flags (v3): intent-to-add and skip-worktree entries follow libgit2's rules.
            if flags & 0x4000 != 0 { return nil }
            let nameLength = Int(flags & 0x0FFF)
            var pathEnd = pathStart + nameLength
            if nameLength == 0x0FFF {
                pathEnd = pathStart
                while pathEnd < end, bytes[pathEnd] != 0 { pathEnd += 1 }
            }
            guard pathEnd < end, bytes[pathEnd] == 0 else { return nil }
            let entrySize = (pathEnd - cursor + 8) & ~7
            guard cursor + entrySize <= end else { return nil }
            let entry = Entry(mode: mode, id: id, stage: UInt8((flags >> 12) & 3), pathStart: pathStart,
                              pathCount: pathEnd - pathStart)
            if let previous {
                // Sorted by path, then stage: anything else is not an index git wrote.
                let order = compare(bytes[previous.pathStart..<(previous.pathStart + previous.pathCount)],
                                    bytes[pathStart..<pathEnd])
                guard order < 0 || (order == 0 && previous.stage < entry.stage) else { return nil }
            }
            entries.append(entry)
            previous = entry
            cursor += entrySize
        }
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
        return IndexFile(bytes: bytes, entries: entries, cacheTree: cacheTree)
    }

    /// One node and its subtrees, in git's pre-order layout: `name\0<entries> <subtrees>\n[id]`.
    private static func parseCacheTree(_ bytes: [UInt8], at cursor: inout Int, end: Int) -> CacheTreeNode? {
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

    private static func be32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    private static func objectID(_ bytes: [UInt8], _ at: Int) -> ObjectID {
        var high: UInt64 = 0
        var middle: UInt64 = 0
        var low: UInt32 = 0
        for i in 0..<8 { high = high << 8 | UInt64(bytes[at + i]) }
        for i in 8..<16 { middle = middle << 8 | UInt64(bytes[at + i]) }
        for i in 16..<20 { low = low << 8 | UInt32(bytes[at + i]) }
        return ObjectID(high: high, middle: middle, low: low)
    }

    /// Byte-wise comparison, shorter first on a common prefix: git's index order.
    static func compare(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        var i = a.startIndex
        var j = b.startIndex
        while i < a.endIndex && j < b.endIndex {
            if a[i] != b[j] { return a[i] < b[j] ? -1 : 1 }
            i += 1
            j += 1
        }
        return (a.count == b.count) ? 0 : (a.count < b.count ? -1 : 1)
    }
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
    /// Some path in HEAD is gone from the index (deleted, renamed, or a file became a directory).
    private(set) var hasDeletions = false

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
                    if headEntry.mode & FileMode.typeMask == FileMode.tree { subtree = headEntry.id } else { hasDeletions = true }
                }
                try compare(tree: subtree, prefix: childPrefix, range: i..<j, node: node?.children[name])
                i = j
            } else {
                let name = Array(rest)
                if let headEntry = remaining.removeValue(forKey: name) {
                    if headEntry.mode & FileMode.typeMask == FileMode.tree {
                        hasDeletions = true
                        added(i)
                    } else if headEntry.id != entry.id || headEntry.mode != entry.mode {
                        let sameKind = headEntry.mode & FileMode.typeMask == entry.mode & FileMode.typeMask
                        changes.append(StagedChange(path: GitPath(bytes: Array(path)),
                                                    old: sameKind ? (headEntry.id, headEntry.mode) : nil,
                                                    new: (entry.id, entry.mode)))
                    }
                } else {
                    added(i)
                }
                i += 1
            }
        }
        if !remaining.isEmpty { hasDeletions = true }
    }

    private mutating func added(_ i: Int) {
        let entry = index.entries[i]
        changes.append(StagedChange(path: GitPath(bytes: Array(index.path(of: entry))), old: nil, new: (entry.id, entry.mode)))
    }
}

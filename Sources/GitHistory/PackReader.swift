import Foundation
import Synchronization

/// Why the pack reader left an object to libgit2, which then reads it or reports what is wrong with it.
struct PackReadFailure: Error, CustomStringConvertible {
    let description: String
}

/// One object the pack reader inflated or rebuilt from deltas, in memory freed with this object.
final class PackedObject: @unchecked Sendable {
    /// Git object type: 1 commit, 2 tree, 3 blob, 4 tag.
    let type: Int
    let count: Int
    /// One spare byte past `count`: zlib gets room to show a stream longer than the header said.
    fileprivate let memory: UnsafeMutableRawPointer

    fileprivate init(type: Int, count: Int) {
        self.type = type
        self.count = count
        memory = .allocate(byteCount: count + 1, alignment: 16)
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: memory, count: count) }

    deinit { memory.deallocate() }
}

/// One pack file, read with `pread` rather than mapped: a full-history read touches the whole pack,
/// and mapped pages would count towards the scan's resident memory.
final class PackFile: Sendable {
    let path: String
    private let descriptor: Int32
    let size: UInt64
    /// Every object's offset, ascending (from the pack's index).
    private let offsets: [UInt64]

    /// nil when the file cannot be opened or is not a version 2 or 3 pack.
    init?(path: String, offsets: [UInt64]) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var info = stat()
        var header = [UInt8](repeating: 0, count: 12)
        guard fstat(descriptor, &info) == 0, info.st_size >= 32, pread(descriptor, &header, 12, 0) == 12,
              header[0..<4].elementsEqual("PACK".utf8), header[4..<8] == [0, 0, 0, 2] || header[4..<8] == [0, 0, 0, 3] else {
            close(descriptor)
            return nil
        }
        self.path = path
        self.descriptor = descriptor
        self.size = UInt64(info.st_size)
        self.offsets = offsets
    }

    deinit { close(descriptor) }

    /// Where the data of the object at `offset` ends: the next object's start, or the trailer.
    func end(of offset: UInt64) -> UInt64? {
        var low = 0, high = offsets.count
        while low < high {
            let middle = (low + high) / 2
            if offsets[middle] <= offset { low = middle + 1 } else { high = middle }
        }
        guard low > 0, offsets[low - 1] == offset else { return nil }   // not an object's start
        return low < offsets.count ? offsets[low] : size - 20
    }

    /// Reads `count` bytes at `offset` into `buffer`; false on a short read or an error.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: UInt64) -> Bool {
        var done = 0
        while done < count {
            let got = pread(descriptor, buffer + done, count - done, off_t(offset) + off_t(done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { return false }
            done += got
        }
        return true
    }
}

/// Objects rebuilt recently, shared by the readers of one scan: in pack order a delta's base was
/// usually just read, so each stored object is inflated once instead of once per delta built on it.
/// Least recently used objects go first when the total passes `budget` bytes.
final class PackObjectCache: Sendable {
    struct Key: Hashable, Sendable {
        let pack: UInt32
        let offset: UInt64
    }

    private struct State {
        var entries: [Key: (object: PackedObject, stamp: UInt64)] = [:]
        /// Uses in order; an entry is evicted when its last use reaches the front.
        var uses: [(key: Key, stamp: UInt64)] = []
        var head = 0
        var bytes = 0
        var stamp: UInt64 = 0
    }

    private let state = Mutex(State())
    let budget: Int

    init(budget: Int) {
        self.budget = budget
    }

    func object(_ key: Key) -> PackedObject? {
        state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            state.stamp += 1
            state.entries[key] = (entry.object, state.stamp)
            state.uses.append((key, state.stamp))
            Self.trim(&state, budget: budget)
            return entry.object
        }
    }

    func insert(_ object: PackedObject, for key: Key) {
        guard object.count <= budget / 4 else { return }
        state.withLock { state in
            state.stamp += 1
            if let old = state.entries.updateValue((object, state.stamp), forKey: key) { state.bytes -= old.object.count }
            state.bytes += object.count
            state.uses.append((key, state.stamp))
            Self.trim(&state, budget: budget)
        }
    }

    private static func trim(_ state: inout State, budget: Int) {
        while state.bytes > budget && state.head < state.uses.count {
            let use = state.uses[state.head]
            state.head += 1
            if let entry = state.entries[use.key], entry.stamp == use.stamp {
                state.entries[use.key] = nil
                state.bytes -= entry.object.count
            }
        }
        if state.head > 4096 && state.head * 2 > state.uses.count {
            state.uses.removeFirst(state.head)
            state.head = 0
        }
    }
}

/// The packs of one repository and the cache their readers share, set up once per scan.
final class PackStore: Sendable {
    let index: PackIndex
    let packs: [PackFile?]
    let cache: PackObjectCache

    /// Opens the `maxOpenPacks` newest packs (each holds a file descriptor for the whole scan); objects in
    /// older packs of a repository that was never repacked are read by libgit2, which opens packs as needed.
    init(index: PackIndex, cacheBudget: Int = 64 << 20, maxOpenPacks: Int = 64) {
        self.index = index
        packs = (0..<index.packCount).map { rank in
            rank < maxOpenPacks ? PackFile(path: index.packPath(rank), offsets: index.sortedOffsets(rank)) : nil
        }
        cache = PackObjectCache(budget: cacheBudget)
    }

    func makeReader() -> PackReader { PackReader(store: self) }
}

/// Reads objects straight from pack files: each stored object is inflated once, and a delta is
/// rebuilt from its base in the shared cache. One per thread. Anything unexpected (an object outside
/// the packs, a base in a loose object, data that does not parse) throws `PackReadFailure`, and the
/// caller asks libgit2 instead, so this reader only ever changes how fast an object is read.
final class PackReader {
    enum Outcome {
        case object(PackedObject)
        case oversized(type: Int, size: Int)
    }

    private let store: PackStore
    private let inflater = Inflater()
    /// A stretch of one pack read ahead: in pack order the next objects are usually in it.
    private var window: UnsafeMutableRawPointer
    private var windowCapacity: Int
    private var windowPack = -1
    private var windowStart: UInt64 = 0
    private var windowCount = 0
    static let windowSize = 1 << 20
    static let shortRead = 16 << 10
    static let longestChain = 10_000

    fileprivate init(store: PackStore) {
        self.store = store
        windowCapacity = Self.windowSize
        window = .allocate(byteCount: windowCapacity, alignment: 16)
    }

    deinit {
        window.deallocate()
    }

    /// The object at `location`, or its type and size when it is larger than `maxSize`.
    func read(_ location: PackIndex.Location, maxSize: Int?) throws(PackReadFailure) -> Outcome {
        let key = PackObjectCache.Key(pack: location.pack, offset: location.offset)
        if let cached = store.cache.object(key) {
            if let maxSize, cached.count > maxSize { return .oversized(type: cached.type, size: cached.count) }
            return .object(cached)
        }
        let top = try entry(key)
        var topDelta: PackedObject?
        if let maxSize {
            if top.isDelta {
                let delta = try inflate(top, type: 0)
                let size = try Self.targetSize(of: delta)
                if size > maxSize { return .oversized(type: try baseType(of: top, at: key), size: size) }
                topDelta = delta
            } else if top.size > maxSize {
                return .oversized(type: top.type, size: top.size)
            }
        }
        return .object(try resolve(key, top, delta: topDelta))
    }

    /// Follows the delta chain down to a stored object or a cached one, then rebuilds upwards,
    /// caching every object on the way (later deltas in the pack are likely built on them).
    private func resolve(_ key: PackObjectCache.Key, _ top: Entry, delta topDelta: PackedObject?) throws(PackReadFailure) -> PackedObject {
        var chain: [(key: PackObjectCache.Key, delta: PackedObject)] = []
        var key = key
        var current = top
        var pending = topDelta
        var object: PackedObject
        while true {
            guard current.isDelta else {
                object = try inflate(current, type: current.type)
                store.cache.insert(object, for: key)
                break
            }
            let delta: PackedObject
            if let pending { delta = pending } else { delta = try inflate(current, type: 0) }
            pending = nil
            chain.append((key, delta))
            guard chain.count <= Self.longestChain else { throw PackReadFailure(description: "delta chain longer than \(Self.longestChain)") }
            let baseKey = try base(of: current, at: key)
            if let cached = store.cache.object(baseKey) {
                object = cached
                break
            }
            key = baseKey
            current = try entry(key)
        }
        for link in chain.reversed() {
            object = try Self.apply(link.delta, to: object)
            store.cache.insert(object, for: link.key)
        }
        return object
    }

    /// The type of the object a delta chain ends in (read from headers only).
    private func baseType(of delta: Entry, at key: PackObjectCache.Key) throws(PackReadFailure) -> Int {
        var current = delta
        var key = key
        for _ in 0..<Self.longestChain {
            guard current.isDelta else { return current.type }
            key = try base(of: current, at: key)
            if let cached = store.cache.object(key) { return cached.type }
            current = try entry(key)
        }
        throw PackReadFailure(description: "delta chain longer than \(Self.longestChain)")
    }

    private func base(of entry: Entry, at key: PackObjectCache.Key) throws(PackReadFailure) -> PackObjectCache.Key {
        if let offset = entry.baseOffset { return PackObjectCache.Key(pack: key.pack, offset: offset) }
        guard let id = entry.baseID else { throw PackReadFailure(description: "delta without a base") }
        let location = store.index.location(of: id)
        guard location != .unpacked else { throw PackReadFailure(description: "delta base \(id) is not in a pack") }
        return PackObjectCache.Key(pack: location.pack, offset: location.offset)
    }

    // MARK: Entries

    /// An object's header in the pack.
    private struct Entry {
        let type: Int
        /// The stored size: the object's for types 1-4, the delta's for 6 and 7.
        let size: Int
        let pack: Int
        let dataStart: UInt64
        let dataEnd: UInt64
        var baseOffset: UInt64?
        var baseID: ObjectID?

        var isDelta: Bool { type == 6 || type == 7 }
    }

    private func entry(_ key: PackObjectCache.Key) throws(PackReadFailure) -> Entry {
        let pack = Int(key.pack)
        guard pack < store.packs.count, let file = store.packs[pack] else { throw PackReadFailure(description: "pack \(pack) is not readable") }
        guard let end = file.end(of: key.offset), end > key.offset else {
            throw PackReadFailure(description: "no object at offset \(key.offset) of \(file.path)")
        }
        let header = try span(pack, file, from: key.offset, to: min(end, key.offset + 32))
        var position = 0
        func next() throws(PackReadFailure) -> UInt8 {
            guard position < header.count else { throw PackReadFailure(description: "truncated object header at \(key.offset) of \(file.path)") }
            defer { position += 1 }
            return header[position]
        }
        var byte = try next()
        let type = Int(byte >> 4) & 7
        var size = Int(byte & 15)
        var shift = 4
        while byte & 0x80 != 0 {
            byte = try next()
            guard shift <= 56 else { throw PackReadFailure(description: "object size too large at \(key.offset) of \(file.path)") }
            size |= Int(byte & 0x7F) << shift
            shift += 7
        }
        var baseOffset: UInt64?
        var baseID: ObjectID?
        switch type {
        case 1, 2, 3, 4:
            break
        case 6:
            byte = try next()
            var distance = UInt64(byte & 0x7F)
            while byte & 0x80 != 0 {
                byte = try next()
                guard distance < (1 << 56) else { throw PackReadFailure(description: "bad delta base offset at \(key.offset) of \(file.path)") }
                distance = ((distance + 1) << 7) | UInt64(byte & 0x7F)
            }
            guard distance > 0, distance <= key.offset else { throw PackReadFailure(description: "bad delta base offset at \(key.offset) of \(file.path)") }
            baseOffset = key.offset - distance
        case 7:
            guard position + 20 <= header.count else { throw PackReadFailure(description: "truncated delta base id at \(key.offset) of \(file.path)") }
            baseID = ObjectID(bytes: Array(header[position..<(position + 20)]))
            position += 20
        default:
            throw PackReadFailure(description: "unknown object type \(type) at \(key.offset) of \(file.path)")
        }
        return Entry(type: type, size: size, pack: pack, dataStart: key.offset + UInt64(position), dataEnd: end,
                     baseOffset: baseOffset, baseID: baseID)
    }

    /// Bytes `from..<to` of a pack, through the read-ahead window.
    private func span(_ pack: Int, _ file: PackFile, from: UInt64, to: UInt64) throws(PackReadFailure) -> UnsafeRawBufferPointer {
        if pack == windowPack && from >= windowStart && to <= windowStart + UInt64(windowCount) {
            return UnsafeRawBufferPointer(start: window + Int(from - windowStart), count: Int(to - from))
        }
        guard to <= file.size, to - from < UInt64(Int32.max) else { throw PackReadFailure(description: "object past the end of \(file.path)") }
        let needed = Int(to - from)
        // Read far ahead when reading forward through the pack (blobs in pack order), only a little when
        // jumping back (a delta's base elsewhere): reading 1 MB for a small object is mostly wasted copying.
        let forward = pack == windowPack && from >= windowStart && from <= windowStart + UInt64(windowCount + Self.windowSize)
        let count = Int(min(file.size - from, UInt64(max(needed, forward ? Self.windowSize : Self.shortRead))))
        if count > windowCapacity {
            window.deallocate()
            windowCapacity = count
            window = .allocate(byteCount: count, alignment: 16)
        }
        windowPack = -1
        guard file.read(into: window, count: count, at: from) else { throw PackReadFailure(description: "cannot read \(file.path) at \(from)") }
        windowPack = pack
        windowStart = from
        windowCount = count
        return UnsafeRawBufferPointer(start: window, count: needed)
    }

    /// Inflates an entry's data: exactly `entry.size` bytes, or it fails.
    private func inflate(_ entry: Entry, type: Int) throws(PackReadFailure) -> PackedObject {
        guard let file = store.packs[entry.pack] else { throw PackReadFailure(description: "pack \(entry.pack) is not readable") }
        guard entry.size < Int(UInt32.max) else { throw PackReadFailure(description: "object over 4 GiB in \(file.path)") }
        let input = try span(entry.pack, file, from: entry.dataStart, to: entry.dataEnd)
        let object = PackedObject(type: type, count: entry.size)
        guard inflater.inflate(input, into: object.memory, count: entry.size) else {
            throw PackReadFailure(description: "object data at \(entry.dataStart) of \(file.path) does not inflate to \(entry.size) bytes")
        }
        return object
    }

    // MARK: Deltas

    /// The size of the object a delta builds (its second header number).
    static func targetSize(of delta: PackedObject) throws(PackReadFailure) -> Int {
        var position = 0
        _ = try varint(delta.bytes, &position)
        return try varint(delta.bytes, &position)
    }

    /// Builds an object from a delta (git's copy/insert instructions) and its base.
    static func apply(_ delta: PackedObject, to base: PackedObject) throws(PackReadFailure) -> PackedObject {
        let instructions = delta.bytes
        var position = 0
        guard try varint(instructions, &position) == base.count else { throw PackReadFailure(description: "delta does not fit its base's size") }
        let size = try varint(instructions, &position)
        let target = PackedObject(type: base.type, count: size)
        var written = 0
        while position < instructions.count {
            let operation = instructions[position]
            position += 1
            if operation & 0x80 != 0 {
                var offset = 0, length = 0
                for bit in 0..<4 where operation & (1 << bit) != 0 {
                    guard position < instructions.count else { throw PackReadFailure(description: "truncated delta copy") }
                    offset |= Int(instructions[position]) << (8 * bit)
                    position += 1
                }
                for bit in 0..<3 where operation & (0x10 << bit) != 0 {
                    guard position < instructions.count else { throw PackReadFailure(description: "truncated delta copy") }
                    length |= Int(instructions[position]) << (8 * bit)
                    position += 1
                }
                if length == 0 { length = 0x10000 }
                guard offset + length <= base.count, written + length <= size else { throw PackReadFailure(description: "delta copy out of bounds") }
                (target.memory + written).copyMemory(from: base.memory + offset, byteCount: length)
                written += length
            } else if operation != 0 {
                let length = Int(operation)
                guard position + length <= instructions.count, written + length <= size, let start = instructions.baseAddress else {
                    throw PackReadFailure(description: "delta insert out of bounds")
                }
                (target.memory + written).copyMemory(from: start + position, byteCount: length)
                position += length
                written += length
            } else {
                throw PackReadFailure(description: "reserved delta instruction")
            }
        }
        guard written == size else { throw PackReadFailure(description: "delta builds \(written) of \(size) bytes") }
        return target
    }

    private static func varint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) throws(PackReadFailure) -> Int {
        var value = 0
        var shift = 0
        while true {
            guard position < bytes.count, shift <= 56 else { throw PackReadFailure(description: "bad delta header") }
            let byte = bytes[position]
            position += 1
            value |= Int(byte & 0x7F) << shift
            shift += 7
            if byte & 0x80 == 0 { return value }
        }
    }
}

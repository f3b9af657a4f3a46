import Foundation

/// Where objects sit in a repository's pack files, read from the packs' `.idx` files (versions 1
/// and 2). A history scan reads blobs in this order: a pack stores an object's delta bases just
/// before it, so in pack order the base a delta needs was usually just rebuilt and is still in the
/// pack reader's cache (`PackReader`). On git/git, reading every blob through libgit2 took 40 s in
/// walk order and 25 s in pack order (one thread).
struct PackIndex: Sendable {
    /// A place in the object database: which pack (newest first) and where in it. Objects outside
    /// every pack (loose, or in an alternate) sort last.
    struct Location: Comparable, Sendable {
        let pack: UInt32
        let offset: UInt64

        static let unpacked = Location(pack: .max, offset: .max)

        static func < (lhs: Location, rhs: Location) -> Bool { (lhs.pack, lhs.offset) < (rhs.pack, rhs.offset) }
    }

    private let tables: [Table]

    /// Reads every `*.idx` under `objectsDirectory/pack`; a file it cannot read or parse is left
    /// out (its objects then sort last, which only costs speed).
    init(objectsDirectory: String) {
        let directory = objectsDirectory + "/pack"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".idx") }
        var found = [(modified: Double, table: Table)]()
        for name in names {
            let path = directory + "/" + name
            var info = stat()
            guard stat(path, &info) == 0, let file = MappedFile(path: path), let table = Table(file, packPath: String(path.dropLast(4)) + ".pack")
            else { continue }
            found.append((Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9, table))
        }
        // Newest pack first, as git and libgit2 look objects up.
        tables = found.sorted { $0.modified > $1.modified }.map(\.table)
    }

    /// The number of objects the indexes list (an object in two packs counts twice).
    var objectCount: Int { tables.reduce(0) { $0 + $1.count } }

    /// The number of packs (ranks `0..<packCount` of `Location.pack`).
    var packCount: Int { tables.count }

    /// The `.pack` file that goes with pack `rank`'s index.
    func packPath(_ rank: Int) -> String { tables[rank].packPath }

    /// Every object offset of pack `rank`, ascending: where one object's data ends is where the next
    /// object (or the 20-byte trailer) begins.
    func sortedOffsets(_ rank: Int) -> [UInt64] { tables[rank].sortedOffsets() }

    func location(of id: ObjectID) -> Location {
        for (rank, table) in tables.enumerated() {
            if let offset = table.offset(of: id) { return Location(pack: UInt32(rank), offset: offset) }
        }
        return .unpacked
    }

    /// One mapped `.idx` file.
    private struct Table: @unchecked Sendable {
        let file: MappedFile
        let count: Int
        /// Byte positions of the tables inside the file.
        let fanout: Int
        let names: Int
        /// Distance between two names: 20 (version 2) or 24 (version 1, offset before each name).
        let nameStride: Int
        let offsets: Int
        let largeOffsets: Int
        let version: Int
        let packPath: String

        init?(_ file: MappedFile, packPath: String) {
            let bytes = file.bytes
            self.file = file
            self.packPath = packPath
            let isVersion2 = bytes.count >= 8 && Self.word(bytes, 0) == 0xFF74_4F63
            if isVersion2 {
                guard Self.word(bytes, 4) == 2 else { return nil }
                version = 2
                fanout = 8
            } else {
                version = 1
                fanout = 0
            }
            guard bytes.count >= fanout + 1024 else { return nil }
            var previous: UInt32 = 0
            for slot in 0..<256 {
                let value = Self.word(bytes, fanout + 4 * slot)
                guard value >= previous else { return nil }
                previous = value
            }
            count = Int(previous)
            if version == 2 {
                names = fanout + 1024
                nameStride = 20
                offsets = names + 20 * count + 4 * count
                largeOffsets = offsets + 4 * count
                guard bytes.count >= largeOffsets + 40 else { return nil }
            } else {
                names = fanout + 1024 + 4
                nameStride = 24
                offsets = fanout + 1024
                largeOffsets = 0
                guard bytes.count >= fanout + 1024 + 24 * count + 40 else { return nil }
            }
        }

        /// The offset of `id` in the pack, by binary search within its fan-out bucket.
        func offset(of id: ObjectID) -> UInt64? {
            let bytes = file.bytes
            let first = Int(id.high >> 56)
            var low = first == 0 ? 0 : Int(Self.word(bytes, fanout + 4 * (first - 1)))
            var high = Int(Self.word(bytes, fanout + 4 * first))
            while low < high {
                let middle = (low + high) / 2
                let candidate = name(at: middle)
                if candidate == id { return offset(at: middle) }
                if candidate < id { low = middle + 1 } else { high = middle }
            }
            return nil
        }

        func sortedOffsets() -> [UInt64] {
            var result = [UInt64]()
            result.reserveCapacity(count)
            for index in 0..<count { if let offset = offset(at: index) { result.append(offset) } }
            result.sort()
            return result
        }

        private func name(at index: Int) -> ObjectID {
            let bytes = file.bytes
            let start = names + nameStride * index
            return ObjectID(high: Self.doubleWord(bytes, start), middle: Self.doubleWord(bytes, start + 8),
                            low: Self.word(bytes, start + 16))
        }

        private func offset(at index: Int) -> UInt64? {
            let bytes = file.bytes
            if version == 1 { return UInt64(Self.word(bytes, offsets + 24 * index)) }
            let small = Self.word(bytes, offsets + 4 * index)
            guard small & 0x8000_0000 != 0 else { return UInt64(small) }
            let position = largeOffsets + 8 * Int(small & 0x7FFF_FFFF)
            guard position + 8 <= bytes.count else { return nil }
            return Self.doubleWord(bytes, position)
        }

        private static func word(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
            UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
        }

        private static func doubleWord(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
            UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
        }
    }
}

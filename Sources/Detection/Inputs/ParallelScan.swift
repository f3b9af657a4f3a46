import Foundation

/// Counts and problems from a scan, for the summary line and exit status.
public struct ScanStats: Sendable {
    public var units = 0
    public var bytes = 0
    public var skippedBinary = 0
    public var skippedLarge = 0
    public var skippedAllowlisted = 0
    public var warnings: [String] = []

    public init() {}

    public mutating func merge(_ other: ScanStats) {
        units += other.units
        bytes += other.bytes
        skippedBinary += other.skippedBinary
        skippedLarge += other.skippedLarge
        skippedAllowlisted += other.skippedAllowlisted
        warnings += other.warnings
    }
}

/// Limits for reading inputs.
public struct InputLimits: Sendable {
    /// Files larger than this are skipped (0 = no limit).
    public var maxFileBytes: Int
    /// Large inputs are scanned in chunks of this size, overlapping by `chunkOverlap`, so memory
    /// stays bounded and a secret across a boundary is still found.
    public var chunkBytes: Int
    public var chunkOverlap: Int

    public init(maxFileBytes: Int = 0, chunkBytes: Int = 32 << 20, chunkOverlap: Int = 64 << 10) {
        self.maxFileBytes = maxFileBytes
        self.chunkBytes = chunkBytes
        self.chunkOverlap = chunkOverlap
    }
}

/// Scans files on every core: each worker thread holds its own `Scanner` (Vectorscan scratch,
/// PCRE2 match state) and read buffer.
public struct ParallelScan: Sendable {
    public let detector: Detector
    public let threads: Int
    public let limits: InputLimits

    public init(detector: Detector, threads: Int = ProcessInfo.processInfo.activeProcessorCount, limits: InputLimits = InputLimits()) {
        self.detector = detector
        self.threads = max(1, threads)
        self.limits = limits
    }

    /// File extensions that never hold text worth scanning.
    static let binaryExtensions: Set<String> = [
        "png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "tif", "tiff", "psd", "heic",
        "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "jar", "war", "ear", "whl", "apk", "ipa", "dmg", "iso",
        "so", "dylib", "dll", "exe", "o", "a", "lib", "class", "pyc", "pyo", "wasm", "bin",
        "woff", "woff2", "ttf", "otf", "eot", "mp3", "mp4", "m4a", "mov", "avi", "mkv", "wav", "flac", "ogg", "webm",
        "pdf", "doc", "xls", "ppt", "sqlite", "db",
    ]

    /// Scans `files`; findings are sorted by file, line, column and rule.
    /// `progress` is called from worker threads with the units and bytes just finished.
    public func scan(_ files: [FileTarget], progress: (@Sendable (_ units: Int, _ bytes: Int) -> Void)? = nil)
        -> (findings: [Finding], stats: ScanStats) {
        let state = SharedState()
        let workerCount = min(threads, max(1, files.count))
        DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
            work(state: state, progress: progress) { state.next(limit: files.count).map { files[$0] } }
        }
        return state.result()
    }

    /// One worker: scans the files `next` hands out with its own scanner and buffer, then adds its
    /// findings and counts to `state`.
    private func work(state: SharedState, progress: (@Sendable (_ units: Int, _ bytes: Int) -> Void)?,
                      next: () -> FileTarget?) {
        let scanner = detector.makeScanner()
        var buffer = [UInt8]()
        var stats = ScanStats()
        var findings = [Finding]()
        while let file = next() {
            let before = stats.bytes
            scanFile(file, scanner: scanner, buffer: &buffer, stats: &stats, findings: &findings)
            progress?(1, stats.bytes - before)
        }
        state.add(findings, stats)
    }

    /// Scans files while `produce` (on the calling thread, e.g. a directory walk) is still finding
    /// them: the workers start on the first file instead of waiting for the whole list (listing a
    /// large tree was a serial tenth of a directory scan). Returns the findings, sorted as `scan(_:)`
    /// sorts them, and every file produced, in order. If `produce` throws, the files already handed
    /// out are finished and the error is rethrown.
    public func scan(streaming produce: (_ emit: (FileTarget) -> Void) throws -> Void,
                     progress: (@Sendable (_ units: Int, _ bytes: Int) -> Void)? = nil)
        throws -> (findings: [Finding], stats: ScanStats, files: [FileTarget]) {
        let queue = FileQueue()
        let state = SharedState()
        let finished = DispatchGroup()
        for _ in 0..<max(1, threads) {
            finished.enter()
            Thread.detachNewThread { [self] in
                work(state: state, progress: progress, next: queue.next)
                finished.leave()
            }
        }
        do {
            try produce { queue.append($0) }
        } catch {
            queue.finish()
            finished.wait()
            throw error
        }
        queue.finish()
        finished.wait()
        let (findings, stats) = state.result()
        return (findings, stats, queue.all)
    }

    /// Scans one in-memory unit (standard input, a git blob) in chunks, on the calling thread.
    public func scan(bytes: [UInt8], provenance: Provenance, scanner: Scanner) -> [Finding] {
        bytes.withUnsafeBytes { scanChunked($0, provenance: provenance, scanner: scanner) }
    }

    /// Like `scan(bytes:…)`, for bytes held elsewhere (a blob where libgit2 inflated it). `anyPath`: see
    /// `Scanner.scan(_:provenance:firstLine:owned:pathChecked:anyPath:)`.
    public func scan(buffer: UnsafeRawBufferPointer, provenance: Provenance, scanner: Scanner, anyPath: Bool = false) -> [Finding] {
        scanChunked(buffer, provenance: provenance, scanner: scanner, anyPath: anyPath)
    }

    private func scanFile(_ file: FileTarget, scanner: Scanner, buffer: inout [UInt8], stats: inout ScanStats,
                          findings: inout [Finding]) {
        let provenance = Provenance(file: file.displayPath, symlinkFile: file.symlinkPath)
        if scanner.isPathAllowlisted(file.displayPath) || (file.relativePath != file.displayPath && scanner.isPathAllowlisted(file.relativePath)) {
            stats.skippedAllowlisted += 1
            return
        }
        if let ext = Self.lowercasedExtension(of: file.displayPath), Self.binaryExtensions.contains(ext) {
            stats.skippedBinary += 1
            return
        }
        if limits.maxFileBytes > 0 && file.size > limits.maxFileBytes {
            stats.skippedLarge += 1
            stats.warnings.append("\(file.displayPath): skipped, \(file.size / (1 << 20)) MB is over the size limit")
            return
        }
        let fd = file.root.map { openat($0.descriptor, file.relativePath, O_RDONLY | O_CLOEXEC) } ?? open(file.openPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            stats.warnings.append("\(file.displayPath): cannot read: \(String(cString: strerror(errno)))")
            return
        }
        defer { close(fd) }
        // One buffer per worker, grown to the largest file seen (small files in one read), at most
        // one chunk plus its overlap: larger files are scanned chunk by chunk.
        var firstLine = 1
        var carried = 0        // bytes at the front of the buffer carried over from the previous chunk
        let needed = min(limits.chunkBytes + limits.chunkOverlap, max(file.size + 1, 64 << 10))
        if buffer.count < needed { buffer = [UInt8](repeating: 0, count: needed) }
        var checkedBinary = false
        while true {
            let wanted = buffer.count - carried
            let got = readFully(fd, into: &buffer, at: carried, count: wanted)
            if got < 0 {
                stats.warnings.append("\(file.displayPath): cannot read: \(String(cString: strerror(errno)))")
                return
            }
            if !checkedBinary {
                checkedBinary = true
                let probe = min(carried + got, 8000)
                if buffer.withUnsafeBytes({ memchr($0.baseAddress!, 0, probe) }) != nil {
                    stats.skippedBinary += 1
                    return
                }
                stats.units += 1
            }
            let filled = carried + got
            let atEnd = got < wanted
            // Findings that start in the overlap tail belong to the next chunk, which sees them whole.
            var ownedEnd = filled
            if !atEnd {
                ownedEnd = max(carried + 1, filled - min(limits.chunkOverlap, filled / 2))
                // Start the next chunk at a line boundary so its columns are right.
                if let newline = buffer[carried..<ownedEnd].lastIndex(of: 0x0A), newline > carried { ownedEnd = newline + 1 }
            }
            buffer.withUnsafeBytes { raw in
                let view = UnsafeRawBufferPointer(rebasing: raw[0..<filled])
                findings += scanner.scan(view, provenance: provenance, firstLine: firstLine, owned: 0..<ownedEnd, pathChecked: true)
            }
            stats.bytes += filled - carried
            if atEnd { return }
            firstLine += buffer[0..<ownedEnd].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            carried = filled - ownedEnd
            buffer.withUnsafeMutableBytes { raw in
                guard let base = raw.baseAddress else { return }
                memmove(base, base + ownedEnd, carried)
            }
        }
    }

    /// The file name's extension in ASCII lower case ("" for none, as for `.bashrc`), nil when it
    /// is too long to be a binary type. Bytewise: NSString's `pathExtension` was a fortieth of a
    /// directory scan.
    static func lowercasedExtension(of path: String) -> String? {
        var ext = [UInt8]()
        for byte in path.utf8.reversed() {
            if byte == UInt8(ascii: "/") { return "" }
            if byte == UInt8(ascii: ".") { break }
            if ext.count == 8 { return nil }
            ext.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
        }
        // No dot in the name, or only a leading one: no extension.
        guard let dot = path.utf8.lastIndex(of: UInt8(ascii: ".")) else { return "" }
        if dot == path.utf8.startIndex || path.utf8[path.utf8.index(before: dot)] == UInt8(ascii: "/") { return "" }
        return String(decoding: ext.reversed(), as: UTF8.self)
    }

    /// Reads until `count` bytes or end of file; -1 on error.
    private func readFully(_ fd: Int32, into buffer: inout [UInt8], at offset: Int, count: Int) -> Int {
        var total = 0
        while total < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                read(fd, raw.baseAddress! + offset + total, count - total)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if n == 0 { break }
            total += n
        }
        return total
    }

    private func scanChunked(_ bytes: UnsafeRawBufferPointer, provenance: Provenance, scanner: Scanner, anyPath: Bool = false) -> [Finding] {
        guard bytes.count > limits.chunkBytes + limits.chunkOverlap else {
            return scanner.scan(bytes, provenance: provenance, anyPath: anyPath)
        }
        var findings = [Finding]()
        var start = 0
        var firstLine = 1
        while start < bytes.count {
            let end = min(bytes.count, start + limits.chunkBytes + limits.chunkOverlap)
            var ownedEnd = end == bytes.count ? end : end - limits.chunkOverlap
            if end < bytes.count, let newline = UnsafeRawBufferPointer(rebasing: bytes[start..<ownedEnd]).lastIndex(of: 0x0A) {
                ownedEnd = start + newline + 1
            }
            let view = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            findings += scanner.scan(view, provenance: provenance, firstLine: firstLine, owned: 0..<(ownedEnd - start), anyPath: anyPath)
            firstLine += view[0..<(ownedEnd - start)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            start = ownedEnd
        }
        return findings
    }
}

/// Files handed from a producer to the workers; `next` waits for more until `finish`.
private final class FileQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private(set) var all = [FileTarget]()
    private var taken = 0
    private var done = false

    func append(_ file: FileTarget) {
        condition.lock()
        all.append(file)
        condition.signal()
        condition.unlock()
    }

    func finish() {
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }

    func next() -> FileTarget? {
        condition.lock()
        defer { condition.unlock() }
        while taken == all.count && !done { condition.wait() }
        guard taken < all.count else { return nil }
        taken += 1
        return all[taken - 1]
    }
}

/// Work index and results shared by the worker threads.
private final class SharedState: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var findings = [Finding]()
    private var stats = ScanStats()

    func next(limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard nextIndex < limit else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    func add(_ more: [Finding], _ moreStats: ScanStats) {
        lock.lock()
        findings += more
        stats.merge(moreStats)
        lock.unlock()
    }

    func result() -> (findings: [Finding], stats: ScanStats) {
        lock.lock()
        defer { lock.unlock() }
        let sorted = findings.sorted {
            ($0.file, $0.startLine, $0.startColumn, $0.ruleID) < ($1.file, $1.startLine, $1.startColumn, $1.ruleID)
        }
        return (sorted, stats)
    }
}

import CVectorscan
import Foundation

// Thin wrapper over Vectorscan (Hyperscan). All unsafe pointer code for the library lives here.

/// One pattern to compile into a Vectorscan database.
struct VectorscanPattern {
    var expression: String
    var id: UInt32
    var flags: UInt32
    /// Compile `Detector.relaxingBoundedRepeats(expression)` instead of `expression`. Done only when
    /// the database is compiled, not on every start: the cache key names the rule's own regex.
    var relaxed = false

    /// What Vectorscan compiles.
    var compiledExpression: String { relaxed ? Detector.relaxingBoundedRepeats(expression) : expression }
}

/// Why Vectorscan rejected a pattern.
struct VectorscanCompileError: Error {
    var expression: Int
    var message: String
}

/// Widths of the text a pattern can match, from `hs_expression_info`.
struct VectorscanExpressionInfo {
    var minWidth: Int
    /// `nil` when unbounded.
    var maxWidth: Int?
}

enum Vectorscan {
    static var version: String { String(cString: hs_version()) }

    /// Checks a single expression; returns the failure message if Vectorscan cannot take it.
    static func info(_ expression: String, flags: UInt32) -> Result<VectorscanExpressionInfo, VectorscanCompileError> {
        var info: UnsafeMutablePointer<hs_expr_info_t>?
        var error: UnsafeMutablePointer<hs_compile_error_t>?
        let status = hs_expression_info(expression, flags, &info, &error)
        guard status == HS_SUCCESS, let info else {
            let message = error.map { String(cString: $0.pointee.message) } ?? "error \(status)"
            if let error { hs_free_compile_error(error) }
            return .failure(VectorscanCompileError(expression: 0, message: message))
        }
        defer { free(info) }
        let maxWidth = info.pointee.max_width == UInt32.max ? nil : Int(info.pointee.max_width)
        return .success(VectorscanExpressionInfo(minWidth: Int(info.pointee.min_width), maxWidth: maxWidth))
    }
}

/// A compiled, immutable, shareable block-mode database.
final class VectorscanDatabase: @unchecked Sendable {
    let raw: OpaquePointer

    private init(raw: OpaquePointer) { self.raw = raw }

    deinit { hs_free_database(raw) }

    /// Compiles all patterns into one block-mode database.
    static func compile(_ patterns: [VectorscanPattern]) throws -> VectorscanDatabase {
        var db: OpaquePointer?
        var error: UnsafeMutablePointer<hs_compile_error_t>?
        let cStrings = patterns.map { strdup($0.compiledExpression) }
        defer { cStrings.forEach { free($0) } }
        var expressions = cStrings.map { UnsafePointer<CChar>($0) }
        var flags = patterns.map(\.flags)
        var ids = patterns.map(\.id)
        let status = expressions.withUnsafeMutableBufferPointer { exprs in
            flags.withUnsafeMutableBufferPointer { fl in
                ids.withUnsafeMutableBufferPointer { idp in
                    hs_compile_multi(exprs.baseAddress, fl.baseAddress, idp.baseAddress, UInt32(patterns.count),
                                     UInt32(HS_MODE_BLOCK), nil, &db, &error)
                }
            }
        }
        guard status == HS_SUCCESS, let db else {
            let message = error.map { String(cString: $0.pointee.message) } ?? "error \(status)"
            let index = error.map { Int($0.pointee.expression) } ?? -1
            if let error { hs_free_compile_error(error) }
            throw VectorscanCompileError(expression: index, message: message)
        }
        return VectorscanDatabase(raw: db)
    }

    /// The database as bytes, for the on-disk cache.
    func serialize() -> [UInt8]? {
        var bytes: UnsafeMutablePointer<CChar>?
        var length = 0
        guard hs_serialize_database(raw, &bytes, &length) == HS_SUCCESS, let bytes else { return nil }
        defer { free(bytes) }
        return bytes.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// Rebuilds a database from `serialize()` output; `nil` if the bytes are not a valid database
    /// for this library version and CPU.
    /// Deserializes a database file read through a private read-only mapping: the library copies
    /// it into its own allocation anyway, so reading it into an array first only cost a pre-commit
    /// run two more 2-MB copies and their page faults.
    static func deserialize(contentsOf path: String) -> VectorscanDatabase? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
        let size = Int(info.st_size)
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else { return nil }
        defer { munmap(mapped, size) }
        var db: OpaquePointer?
        let status = hs_deserialize_database(mapped.assumingMemoryBound(to: CChar.self), size, &db)
        guard status == HS_SUCCESS, let db else { return nil }
        return VectorscanDatabase(raw: db)
    }
}

/// Per-thread scratch space; never share one between concurrent scans.
final class VectorscanScratch: @unchecked Sendable {
    let raw: OpaquePointer

    init(for database: VectorscanDatabase) throws {
        var scratch: OpaquePointer?
        guard hs_alloc_scratch(database.raw, &scratch) == HS_SUCCESS, let scratch else {
            throw VectorscanCompileError(expression: -1, message: "cannot allocate Vectorscan scratch space")
        }
        raw = scratch
    }

    deinit { hs_free_scratch(raw) }
}

extension VectorscanDatabase {
    /// Scans `bytes` (at most 2 GiB: callers chunk far below that) and hands every match end to `collector`.
    func scan(_ bytes: UnsafeRawBufferPointer, scratch: VectorscanScratch, collector: CandidateCollector) {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        let length = UInt32(min(bytes.count, Int(Int32.max)))
        let context = Unmanaged.passUnretained(collector).toOpaque()
        _ = hs_scan(raw, base.assumingMemoryBound(to: CChar.self), length, 0, scratch.raw, { id, _, to, _, ctx in
            guard let ctx else { return 0 }
            Unmanaged<CandidateCollector>.fromOpaque(ctx).takeUnretainedValue().record(id: id, end: Int(to))
            return 0
        }, context)
    }
}

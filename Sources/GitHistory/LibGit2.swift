// The only file in GitHistory that touches libgit2 or unsafe pointers. Every C handle is owned by a
// `final class` that frees it in `deinit`. A handle is used by one thread at a time: each worker opens
// its own `RepositoryHandle` (libgit2 repositories are not safe for unsynchronised concurrent use).
import CGit2
import Foundation

/// libgit2's process-wide set-up, done once on first use and never torn down.
enum LibGit2 {
    static let runtime: Void = {
        git_libgit2_init()
        // Objects are read by id, so re-hashing each one only proves the disk is intact; git cat-file
        // skips it as well, and on large histories it costs as much as reading.
        _ = sealant_git_set_strict_hash_verification(0)
        _ = sealant_git_set_cache_object_limit(GIT_OBJECT_TREE, Workload.blobWalk.treeCacheLimit)
        // Each worker has its own handle and cache; the default 256 MiB each would dominate memory on
        // large histories while only the walk's second look at a commit benefits from it.
        _ = sealant_git_set_cache_max_size(32 << 20)
        // Small pack windows and a cap on what is mapped (see `Workload`) keep memory flat as history grows;
        // with libgit2's defaults every page read stays mapped and resident (peak RSS ≈ pack size).
        _ = sealant_git_set_mwindow_size(32 << 20)
        _ = sealant_git_set_mwindow_mapped_limit(Workload.blobWalk.mappedLimit)
    }()

    /// The two process-wide settings that suit one kind of history read best.
    enum Workload {
        /// Blob mode: the walk reads each tree once (seen trees are skipped), so caching trees only costs
        /// time; blobs are read in pack order, so 128 MiB of mapped pack is plenty.
        case blobWalk
        /// Diff mode compares every commit's trees with its parents': without a cache the same large trees
        /// (git/git's root holds ~500 entries) are rebuilt for every commit. Neighbouring commits' objects lie
        /// all over the pack: with 128 MiB mapped, windows were mapped and unmapped all the time (page faults,
        /// TLB shootdowns, 60 % more time on git/git); 256 MiB was as fast as 1 GiB (99 s, peak RSS 270 MB
        /// instead of 490 MB).
        case commitDiffs
        /// Blob mode recording every occurrence: each commit's changed trees are compared with its parents';
        /// the walk keeps the recent trees itself (`RecentTrees`), blobs are read as in `blobWalk`.
        case occurrenceWalk

        var treeCacheLimit: Int { self == .commitDiffs ? 1 << 20 : 0 }
        var mappedLimit: Int { self == .commitDiffs ? 256 << 20 : 128 << 20 }
    }

    /// Sets libgit2's tree cache and pack mapping for `workload` (process-wide: the last scan started wins).
    static func tune(for workload: Workload) {
        _ = runtime
        _ = sealant_git_set_cache_object_limit(GIT_OBJECT_TREE, workload.treeCacheLimit)
        _ = sealant_git_set_mwindow_mapped_limit(workload.mappedLimit)
    }

    static func lastErrorMessage() -> String {
        guard let error = git_error_last(), let message = error.pointee.message else { return "unknown error" }
        return String(cString: message)
    }

    static func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(GitHistoryError) {
        if code < 0 { throw GitHistoryError.libgit2(operation: operation(), code: code, message: lastErrorMessage()) }
    }
}

// MARK: - Object ids

extension ObjectID {
    init(_ oid: UnsafePointer<git_oid>) {
        let raw = UnsafeRawPointer(oid)
        self.init(high: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
                  middle: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                  low: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
    }

    var gitOID: git_oid {
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid) { raw in
            raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: middle.bigEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 16, as: UInt32.self)
        }
        return oid
    }
}

private func bytesOfCString(_ pointer: UnsafePointer<CChar>?) -> [UInt8] {
    guard let pointer else { return [] }
    return [UInt8](UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
}

private func lossyString(_ pointer: UnsafePointer<CChar>?) -> String {
    String(decoding: bytesOfCString(pointer), as: UTF8.self)
}

/// Byte searches done with libc on the array's storage.
enum RawBytes {
    /// Whether a NUL byte occurs in the first `limit` bytes.
    static func containsNUL(_ bytes: [UInt8], limit: Int) -> Bool {
        bytes.withUnsafeBytes { containsNUL($0, limit: limit) }
    }

    static func containsNUL(_ buffer: UnsafeRawBufferPointer, limit: Int) -> Bool {
        guard let base = buffer.baseAddress else { return false }
        return memchr(base, 0, min(limit, buffer.count)) != nil
    }
}

// MARK: - Repository

/// Git file modes as stored in trees and the index.
enum FileMode {
    static let tree: UInt32 = 0o040000
    static let blob: UInt32 = 0o100644
    static let executable: UInt32 = 0o100755
    static let symlink: UInt32 = 0o120000
    static let gitlink: UInt32 = 0o160000
    /// The bits that tell trees, blobs, symlinks and gitlinks apart.
    static let typeMask: UInt32 = 0o170000
}

/// The outcome of reading one blob.
enum BlobRead {
    case content([UInt8])
    case oversized(size: Int)
    case missing
    case notABlob
}

/// The outcome of loading one blob without copying it (`RepositoryHandle.loadBlob`).
enum BlobLoad {
    case content(LoadedBlob)
    case oversized(size: Int)
    case missing
    case notABlob
}

/// A blob's bytes where libgit2 or the pack reader put them, freed with this object: a history scan
/// hands them to the detector as they are instead of copying gigabytes into Swift arrays. Keeps what
/// owns the bytes (libgit2's object and its repository, or the pack reader's buffer) alive, so it may
/// outlive the reader that loaded it.
final class LoadedBlob: @unchecked Sendable {
    private let owner: AnyObject
    let bytes: UnsafeRawBufferPointer

    fileprivate init(object: OpaquePointer, repository: RepositoryHandle) {
        let owned = ODBObject(object: object, repository: repository)
        owner = owned
        let size = git_odb_object_size(object)
        if size > 0, let data = git_odb_object_data(object) {
            bytes = UnsafeRawBufferPointer(start: data, count: size)
        } else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        }
    }

    init(packed: PackedObject) {
        owner = packed
        bytes = packed.bytes
    }
}

/// A `git_odb_object *` and the repository it came from.
private final class ODBObject {
    let object: OpaquePointer
    let repository: RepositoryHandle

    init(object: OpaquePointer, repository: RepositoryHandle) {
        self.object = object
        self.repository = repository
    }

    deinit { git_odb_object_free(object) }
}

/// An owned `git_repository *`.
final class RepositoryHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    private var odbPointer: OpaquePointer?

    private init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit {
        if let odbPointer { git_odb_free(odbPointer) }
        git_repository_free(pointer)
    }

    /// Opens the repository containing `path` (a work tree, any directory inside it, or a bare repository).
    static func discover(from path: String) throws(GitHistoryError) -> RepositoryHandle {
        try open(path, flags: 0)
    }

    /// Opens exactly `gitDirectory` without searching parents; `asBare` ignores the work tree.
    static func open(gitDirectory: String, asBare: Bool = false) throws(GitHistoryError) -> RepositoryHandle {
        let bare = asBare ? GIT_REPOSITORY_OPEN_BARE.rawValue : 0
        return try open(gitDirectory, flags: GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue | bare)
    }

    private static func open(_ path: String, flags: UInt32) throws(GitHistoryError) -> RepositoryHandle {
        _ = LibGit2.runtime
        var repository: OpaquePointer?
        let code = git_repository_open_ext(&repository, path, flags, nil)
        if code == GIT_ENOTFOUND.rawValue { throw .notARepository(path: path) }
        guard code == 0, let repository else {
            throw .corruptRepository(path: path, reason: LibGit2.lastErrorMessage())
        }
        return RepositoryHandle(repository)
    }

    var gitDirectory: String { lossyString(git_repository_path(pointer)) }
    var commonDirectory: String { lossyString(git_repository_commondir(pointer)) }
    var workTree: String? { git_repository_workdir(pointer).map { String(cString: $0) } }
    var isBare: Bool { git_repository_is_bare(pointer) == 1 }
    var isShallow: Bool { git_repository_is_shallow(pointer) == 1 }

    private func odb() throws(GitHistoryError) -> OpaquePointer {
        if let odbPointer { return odbPointer }
        var odb: OpaquePointer?
        try LibGit2.check(git_repository_odb(&odb, pointer), "open object database of \(gitDirectory)")
        guard let odb else { throw .corruptRepository(path: gitDirectory, reason: "no object database") }
        odbPointer = odb
        return odb
    }

    /// Reads a blob's bytes, checking its size from the object header first when a limit is given.
    func readBlob(_ id: ObjectID, maxSize: Int?) throws(GitHistoryError) -> BlobRead {
        switch try loadBlob(id, maxSize: maxSize) {
        case .content(let blob): return .content([UInt8](blob.bytes))
        case .oversized(let size): return .oversized(size: size)
        case .missing: return .missing
        case .notABlob: return .notABlob
        }
    }

    /// Like `readBlob`, without copying the content out of libgit2.
    func loadBlob(_ id: ObjectID, maxSize: Int?) throws(GitHistoryError) -> BlobLoad {
        let odb = try odb()
        var oid = id.gitOID
        if let maxSize {
            var size = 0
            var type = GIT_OBJECT_ANY
            let code = git_odb_read_header(&size, &type, odb, &oid)
            if code == GIT_ENOTFOUND.rawValue { return .missing }
            try LibGit2.check(code, "read header of object \(id)")
            if type != GIT_OBJECT_BLOB { return .notABlob }
            if size > maxSize { return .oversized(size: size) }
        }
        var object: OpaquePointer?
        let code = git_odb_read(&object, odb, &oid)
        if code == GIT_ENOTFOUND.rawValue { return .missing }
        try LibGit2.check(code, "read object \(id)")
        guard let object else { return .missing }
        guard git_odb_object_type(object) == GIT_OBJECT_BLOB else {
            git_odb_object_free(object)
            return .notABlob
        }
        return .content(LoadedBlob(object: object, repository: self))
    }

    func lookupCommit(_ id: ObjectID) throws(GitHistoryError) -> CommitHandle {
        var oid = id.gitOID
        var commit: OpaquePointer?
        try LibGit2.check(git_commit_lookup(&commit, pointer, &oid), "look up commit \(id)")
        guard let commit else { throw .libgit2(operation: "look up commit \(id)", code: -1, message: "no commit") }
        return CommitHandle(commit)
    }

    /// A libgit2 tree object, for the diff functions.
    func lookupTree(_ id: ObjectID) throws(GitHistoryError) -> TreeHandle {
        var oid = id.gitOID
        var tree: OpaquePointer?
        try LibGit2.check(git_tree_lookup(&tree, pointer, &oid), "look up tree \(id)")
        guard let tree else { throw .libgit2(operation: "look up tree \(id)", code: -1, message: "no tree") }
        return TreeHandle(tree)
    }

    /// A tree's entries parsed straight from the object database: no libgit2 tree object, no cache entry.
    func readTree(_ id: ObjectID) throws(GitHistoryError) -> RawTree {
        let odb = try odb()
        var oid = id.gitOID
        var object: OpaquePointer?
        try LibGit2.check(git_odb_read(&object, odb, &oid), "read tree \(id)")
        guard let object else { throw .corruptRepository(path: gitDirectory, reason: "tree \(id) is missing") }
        guard git_odb_object_type(object) == GIT_OBJECT_TREE else {
            git_odb_object_free(object)
            throw .corruptRepository(path: gitDirectory, reason: "object \(id) is not a tree")
        }
        guard let tree = RawTree(object) else {
            throw .corruptRepository(path: gitDirectory, reason: "tree \(id) is malformed")
        }
        return tree
    }

    /// Whether an object is present in the object database (shallow clones lack the boundary's parents).
    func contains(_ id: ObjectID) -> Bool {
        guard let odb = try? odb() else { return false }
        var oid = id.gitOID
        return git_odb_exists(odb, &oid) == 1
    }

    /// Commits every ref points at (branches, remote branches, tags peeled, notes, stash and its reflog),
    /// plus HEAD whether attached or detached. Refs that peel to a non-commit are left out.
    func allReferenceTips() throws(GitHistoryError) -> [ObjectID] {
        var tips: [ObjectID] = []
        var iterator: OpaquePointer?
        try LibGit2.check(git_reference_iterator_new(&iterator, pointer), "list references of \(gitDirectory)")
        defer { git_reference_iterator_free(iterator) }
        var reference: OpaquePointer?
        while git_reference_next(&reference, iterator) == 0 {
            guard let current = reference else { continue }
            defer { git_reference_free(current) }
            var peeled: OpaquePointer?
            if git_reference_peel(&peeled, current, GIT_OBJECT_COMMIT) == 0, let peeled {
                if let oid = git_object_id(peeled) { tips.append(ObjectID(oid)) }
                git_object_free(peeled)
            }
        }
        var head = git_oid()
        if git_reference_name_to_id(&head, pointer, "HEAD") == 0 { tips.append(ObjectID(&head)) }
        var reflog: OpaquePointer?
        if git_reflog_read(&reflog, pointer, "refs/stash") == 0, let reflog {
            defer { git_reflog_free(reflog) }
            for index in 0..<git_reflog_entrycount(reflog) {
                if let entry = git_reflog_entry_byindex(reflog, index), let oid = git_reflog_entry_id_new(entry) {
                    tips.append(ObjectID(oid))
                }
            }
        }
        return tips
    }

    /// The commit a revision expression (branch, remote branch, tag, sha, `HEAD~2`) names.
    func resolveCommit(_ revision: String) throws(GitHistoryError) -> ObjectID {
        var object: OpaquePointer?
        guard git_revparse_single(&object, pointer, revision) == 0, let object else {
            throw .unknownReference(revision)
        }
        defer { git_object_free(object) }
        var peeled: OpaquePointer?
        guard git_object_peel(&peeled, object, GIT_OBJECT_COMMIT) == 0, let peeled, let oid = git_object_id(peeled) else {
            throw .unknownReference(revision)
        }
        defer { git_object_free(peeled) }
        return ObjectID(oid)
    }

    /// The commit HEAD points at, nil when HEAD is unborn.
    func headCommit() -> ObjectID? {
        var head = git_oid()
        return git_reference_name_to_id(&head, pointer, "HEAD") == 0 ? ObjectID(&head) : nil
    }

    /// The submodule checked out (or cloned into `.git/modules`) at `path`, nil when it is not available.
    func openSubmodule(at path: GitPath) -> RepositoryHandle? {
        var submodule: OpaquePointer?
        guard git_submodule_lookup(&submodule, pointer, path.description) == 0, let submodule else { return nil }
        defer { git_submodule_free(submodule) }
        var repository: OpaquePointer?
        guard git_submodule_open(&repository, submodule) == 0, let repository else { return nil }
        return RepositoryHandle(repository)
    }

    // MARK: Diffs

    /// The index file at `path` instead of the repository's own (git's `GIT_INDEX_FILE`: `git commit -a`
    /// and `git commit PATH` run the pre-commit hook against a temporary index), failing with
    /// `corruptIndex` when it is missing or cannot be parsed.
    func loadIndex(at path: String) throws(GitHistoryError) -> IndexHandle {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .corruptIndex(path: path, reason: "no such file (GIT_INDEX_FILE)")
        }
        var index: OpaquePointer?
        guard git_index_open(&index, path) == 0, let index else {
            throw .corruptIndex(path: path, reason: LibGit2.lastErrorMessage())
        }
        // A free-standing index: diffs against it read blobs through this repository.
        return IndexHandle(index)
    }

    /// The index, failing with `corruptIndex` when it cannot be parsed.
    func loadIndex() throws(GitHistoryError) -> IndexHandle {
        var index: OpaquePointer?
        guard git_repository_index(&index, pointer) == 0, let index else {
            throw .corruptIndex(path: gitDirectory + "index", reason: LibGit2.lastErrorMessage())
        }
        // git_repository_index may hand back a cached index: re-read it if the file changed since
        // (not forced: a fresh handle has just read it, and reading 50k entries twice costs ~50 ms).
        guard git_index_read(index, 0) == 0 else {
            let reason = LibGit2.lastErrorMessage()
            git_index_free(index)
            throw .corruptIndex(path: gitDirectory + "index", reason: reason)
        }
        return IndexHandle(index)
    }

    /// Which changes of a diff get their added lines read (a patch costs both blobs and a line diff).
    enum PatchSelection {
        /// Every change, with its added lines.
        case all
        /// Every change, without added lines: which paths changed, and how.
        case none
        /// Only the changes to these new paths, with their added lines; the others are left out.
        case only(Set<GitPath>)
    }

    /// - Parameter paths: when given, only these files are compared (exact paths, not patterns): libgit2
    ///   then skips every subtree that holds none of them.
    func diffTrees(old: ObjectID?, new: ObjectID?, findRenames: Bool = true, patches selection: PatchSelection = .all,
                   paths: Set<GitPath>? = nil) throws(GitHistoryError) -> [FilePatch] {
        let oldTree = try old.map { (id) throws(GitHistoryError) in try lookupTree(id) }
        let newTree = try new.map { (id) throws(GitHistoryError) in try lookupTree(id) }
        var options = Self.diffOptions()
        var diff: OpaquePointer?
        let code: Int32
        if let paths {
            options.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH.rawValue
            code = Self.withCStrings(paths) { strings, count in
                options.pathspec = git_strarray(strings: strings, count: count)
                return git_diff_tree_to_tree(&diff, pointer, oldTree?.pointer, newTree?.pointer, &options)
            }
        } else {
            code = git_diff_tree_to_tree(&diff, pointer, oldTree?.pointer, newTree?.pointer, &options)
        }
        try LibGit2.check(code, "diff trees \(old.map(\.description) ?? "empty") and \(new.map(\.description) ?? "empty")")
        return try collectPatches(diff, findRenames: findRenames, selection: selection)
    }

    /// Calls `body` with NUL-terminated copies of `paths` as a `char **` array and its length, valid for the call.
    private static func withCStrings<R>(_ paths: Set<GitPath>,
                                        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, Int) -> R) -> R {
        let copies = paths.map { path -> UnsafeMutablePointer<CChar> in
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: path.bytes.count + 1)
            for (index, byte) in path.bytes.enumerated() { copy[index] = CChar(bitPattern: byte) }
            copy[path.bytes.count] = 0
            return copy
        }
        defer { for copy in copies { copy.deallocate() } }
        var pointers = copies.map { Optional($0) }
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress, $0.count) }
    }

    func diffTreeToIndex(tree: ObjectID?, index: IndexHandle) throws(GitHistoryError) -> [FilePatch] {
        let oldTree = try tree.map { (id) throws(GitHistoryError) in try lookupTree(id) }
        var options = Self.diffOptions()
        var diff: OpaquePointer?
        try LibGit2.check(git_diff_tree_to_index(&diff, pointer, oldTree?.pointer, index.pointer, &options),
                          "diff HEAD against the index of \(gitDirectory)")
        return try collectPatches(diff, findRenames: true)
    }

    func diffIndexToWorkTree(index: IndexHandle, includeUntracked: Bool) throws(GitHistoryError) -> [FilePatch] {
        var options = Self.diffOptions()
        if includeUntracked {
            options.flags |= GIT_DIFF_INCLUDE_UNTRACKED.rawValue | GIT_DIFF_RECURSE_UNTRACKED_DIRS.rawValue
                | GIT_DIFF_SHOW_UNTRACKED_CONTENT.rawValue
        }
        var diff: OpaquePointer?
        try LibGit2.check(git_diff_index_to_workdir(&diff, pointer, index.pointer, &options),
                          "diff the index against the work tree of \(workTree ?? gitDirectory)")
        return try collectPatches(diff, findRenames: false)
    }

    /// Lines of `new` that are not in `old` (either may be absent), as a zero-context patch sees them.
    /// The blobs are diffed as buffers: `git_patch_from_blobs` looks up the path's diff driver, which
    /// loads the whole index (~30 ms in a 50k-file repository) for a pre-commit scan of a few files.
    func addedLines(from old: ObjectID?, to new: ObjectID?) throws(GitHistoryError) -> (lines: [AddedLine], isBinary: Bool) {
        func content(_ id: ObjectID?) throws(GitHistoryError) -> [UInt8]? {
            guard let id else { return nil }
            switch try readBlob(id, maxSize: nil) {
            case .content(let bytes): return bytes
            case .missing: throw .corruptRepository(path: gitDirectory, reason: "blob \(id) is missing")
            case .notABlob, .oversized: throw .corruptRepository(path: gitDirectory, reason: "object \(id) is not a blob")
            }
        }
        let oldBytes = try content(old)
        let newBytes = try content(new)
        // The patch points into the buffers: read it before they go.
        let result: Result<(lines: [AddedLine], isBinary: Bool), GitHistoryError> = (oldBytes ?? []).withUnsafeBytes { oldBuffer in
            (newBytes ?? []).withUnsafeBytes { newBuffer in
                var options = Self.diffOptions()
                var patch: OpaquePointer?
                let code = git_patch_from_buffers(&patch, oldBytes == nil ? nil : oldBuffer.baseAddress, oldBuffer.count, nil,
                                                  newBytes == nil ? nil : newBuffer.baseAddress, newBuffer.count, nil, &options)
                guard code == 0 else {
                    return .failure(.libgit2(operation: "diff blobs", code: code, message: LibGit2.lastErrorMessage()))
                }
                guard let patch else { return .success(([], false)) }
                defer { git_patch_free(patch) }
                let isBinary = git_patch_get_delta(patch).map { $0.pointee.flags & GIT_DIFF_FLAG_BINARY.rawValue != 0 } ?? false
                do throws(GitHistoryError) {
                    return .success((try Self.addedLines(of: patch), isBinary))
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }

    private static func diffOptions() -> git_diff_options {
        var options = git_diff_options()
        git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION))
        options.context_lines = 0
        options.interhunk_lines = 0
        options.ignore_submodules = GIT_SUBMODULE_IGNORE_DIRTY
        return options
    }

    private func collectPatches(_ diff: OpaquePointer?, findRenames: Bool,
                                selection: PatchSelection = .all) throws(GitHistoryError) -> [FilePatch] {
        guard let diff else { return [] }
        defer { git_diff_free(diff) }
        if findRenames {
            var find = git_diff_find_options()
            git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION))
            find.flags = GIT_DIFF_FIND_RENAMES.rawValue
            let code = git_diff_find_similar(diff, &find)
            // A blob the object database lacks (a partial clone) cannot be compared: the paths stay added and
            // deleted, and the missing content is reported below as such.
            if code != GIT_ENOTFOUND.rawValue { try LibGit2.check(code, "detect renames") }
        }
        var patches: [FilePatch] = []
        for index in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, index) else { continue }
            let status = delta.pointee.status
            var file = FilePatch(
                status: Self.status(status),
                oldPath: GitPath(bytes: bytesOfCString(delta.pointee.old_file.path)),
                newPath: GitPath(bytes: bytesOfCString(delta.pointee.new_file.path)),
                oldMode: UInt32(delta.pointee.old_file.mode),
                newMode: UInt32(delta.pointee.new_file.mode),
                newID: withUnsafePointer(to: delta.pointee.new_file.id) { ObjectID($0) },
                isBinary: false,
                addedLines: [])
            switch selection {
            case .all: break
            case .none:
                patches.append(file)
                continue
            case .only(let paths):
                guard paths.contains(file.newPath) else { continue }
            }
            // Deletions add nothing; gitlinks and conflicts are reported by their status alone.
            if status == GIT_DELTA_DELETED || status == GIT_DELTA_CONFLICTED || status == GIT_DELTA_UNREADABLE
                || file.newMode == FileMode.gitlink || file.oldMode == FileMode.gitlink {
                patches.append(file)
                continue
            }
            var patch: OpaquePointer?
            let code = git_patch_from_diff(&patch, diff, index)
            if code == GIT_ENOTFOUND.rawValue {
                // Content missing from the object database (a blob-filtered partial clone): no lines to give.
                file.status = .missing
                patches.append(file)
                continue
            }
            try LibGit2.check(code, "diff \(file.newPath)")
            if let patch {
                defer { git_patch_free(patch) }
                let flags = git_patch_get_delta(patch)?.pointee.flags ?? 0
                file.isBinary = flags & GIT_DIFF_FLAG_BINARY.rawValue != 0
                if !file.isBinary { file.addedLines = try Self.addedLines(of: patch) }
            }
            patches.append(file)
        }
        return patches
    }

    private static func addedLines(of patch: OpaquePointer) throws(GitHistoryError) -> [AddedLine] {
        var lines: [AddedLine] = []
        for hunk in 0..<git_patch_num_hunks(patch) {
            let count = git_patch_num_lines_in_hunk(patch, hunk)
            guard count > 0 else { continue }
            for lineIndex in 0..<Int(count) {
                var line: UnsafePointer<git_diff_line>?
                try LibGit2.check(git_patch_get_line_in_hunk(&line, patch, hunk, lineIndex), "read diff line")
                guard let line, line.pointee.origin == CChar(UInt8(ascii: "+")) else { continue }
                var content = line.pointee.content.map {
                    [UInt8](UnsafeRawBufferPointer(start: $0, count: line.pointee.content_len))
                } ?? []
                if content.last == UInt8(ascii: "\n") { content.removeLast() }
                if content.last == UInt8(ascii: "\r") { content.removeLast() }
                lines.append(AddedLine(number: Int(line.pointee.new_lineno), bytes: content))
            }
        }
        return lines
    }

    private static func status(_ status: git_delta_t) -> FilePatch.Status {
        switch status {
        case GIT_DELTA_ADDED, GIT_DELTA_UNTRACKED: return .added
        case GIT_DELTA_DELETED: return .deleted
        case GIT_DELTA_RENAMED: return .renamed
        case GIT_DELTA_COPIED: return .copied
        case GIT_DELTA_TYPECHANGE: return .typeChanged
        case GIT_DELTA_CONFLICTED: return .conflicted
        case GIT_DELTA_UNREADABLE: return .unreadable
        default: return .modified
        }
    }
}

/// One file's change in a diff, with the lines it adds.
struct FilePatch {
    /// `missing`: a blob of the change is not in the object database.
    enum Status { case added, deleted, modified, renamed, copied, typeChanged, conflicted, unreadable, missing }
    var status: Status
    var oldPath: GitPath
    var newPath: GitPath
    var oldMode: UInt32
    var newMode: UInt32
    var newID: ObjectID
    var isBinary: Bool
    var addedLines: [AddedLine]
}

// MARK: - Commits and trees

/// An owned `git_commit *`.
final class CommitHandle {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_commit_free(pointer) }

    var id: ObjectID { ObjectID(git_commit_id(pointer)) }
    var treeID: ObjectID { ObjectID(git_commit_tree_id(pointer)) }
    var committerTime: Int64 { Int64(git_commit_time(pointer)) }

    var parentIDs: [ObjectID] {
        (0..<git_commit_parentcount(pointer)).compactMap { index in
            git_commit_parent_id(pointer, index).map { ObjectID($0) }
        }
    }

    func metadata(isShallowBoundary: Bool) -> CommitMetadata {
        let author = git_commit_author(pointer)
        return CommitMetadata(
            id: id,
            authorName: lossyString(author?.pointee.name),
            authorEmail: lossyString(author?.pointee.email),
            authorTime: Int64(author?.pointee.when.time ?? 0),
            message: lossyString(git_commit_message_raw(pointer) ?? git_commit_message(pointer)),
            isShallowBoundary: isShallowBoundary)
    }
}

/// An owned `git_tree *`, used where libgit2 needs a tree (diffs).
final class TreeHandle {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_tree_free(pointer) }
}

/// A tree object's raw bytes (`<octal mode> <name>\0<20-byte id>` repeated) and the parsed entries.
/// Names stay in the object's buffer and are copied only for entries the walk reports.
final class RawTree {
    /// One entry: its file mode, id, and where its name lies in the buffer.
    struct Entry {
        let mode: UInt32
        let id: ObjectID
        fileprivate let nameStart: Int
        fileprivate let nameCount: Int
    }

    private let object: OpaquePointer
    private let bytes: UnsafeRawBufferPointer
    let entries: [Entry]

    /// Parses the object, taking ownership of it; nil (object freed) when it is malformed.
    init?(_ object: OpaquePointer) {
        let size = git_odb_object_size(object)
        let bytes = UnsafeRawBufferPointer(start: git_odb_object_data(object), count: size)
        var entries: [Entry] = []
        var cursor = 0
        var valid = true
        while cursor < size, let base = bytes.baseAddress {
            var mode: UInt32 = 0
            while cursor < size, bytes[cursor] != UInt8(ascii: " ") {
                let digit = bytes[cursor] &- UInt8(ascii: "0")
                guard digit < 8 else { valid = false; break }
                mode = mode << 3 | UInt32(digit)
                cursor += 1
            }
            guard valid, cursor < size else { valid = false; break }
            cursor += 1
            let nameStart = cursor
            while cursor < size, bytes[cursor] != 0 { cursor += 1 }
            guard cursor + 21 <= size else { valid = false; break }
            let nameCount = cursor - nameStart
            cursor += 1
            let raw = base + cursor
            let id = ObjectID(high: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
                              middle: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                              low: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
            cursor += 20
            entries.append(Entry(mode: mode, id: id, nameStart: nameStart, nameCount: nameCount))
        }
        guard valid else {
            git_odb_object_free(object)
            return nil
        }
        self.object = object
        self.bytes = bytes
        self.entries = entries
    }

    deinit { git_odb_object_free(object) }

    /// The entry's name bytes.
    func name(of entry: Entry) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(rebasing: bytes[entry.nameStart..<(entry.nameStart + entry.nameCount)]))
    }

    /// Git's tree order of `entry` here against `other` in `otherTree` (negative, zero, positive): names
    /// compared bytewise, a subtree's name as if it ended in `/`. Trees list their entries in this order,
    /// so a tree and its parent's can be compared in one pass (occurrence mode). Zero means the same name
    /// and both or neither a subtree.
    func order(of entry: Entry, against other: Entry, in otherTree: RawTree) -> Int {
        let common = min(entry.nameCount, other.nameCount)
        let compared = memcmp(bytes.baseAddress! + entry.nameStart, otherTree.bytes.baseAddress! + other.nameStart, common)
        if compared != 0 { return Int(compared) }
        func next(_ e: Entry, _ tree: RawTree) -> UInt8 {
            if e.nameCount > common { return tree.bytes[e.nameStart + common] }
            return e.mode & FileMode.typeMask == FileMode.tree ? UInt8(ascii: "/") : 0
        }
        return Int(next(entry, self)) - Int(next(other, otherTree))
    }
}

// MARK: - Index

/// One unmerged path: the blobs of the merge base, our side and their side (any may be missing).
struct IndexConflict {
    var path: GitPath
    var ancestor: ObjectID?
    var ours: ObjectID?
    var theirs: ObjectID?
}

/// An owned `git_index *`.
final class IndexHandle {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_index_free(pointer) }

    var hasConflicts: Bool { git_index_has_conflicts(pointer) == 1 }

    func conflicts() throws(GitHistoryError) -> [IndexConflict] {
        var iterator: OpaquePointer?
        try LibGit2.check(git_index_conflict_iterator_new(&iterator, pointer), "list index conflicts")
        defer { git_index_conflict_iterator_free(iterator) }
        var result: [IndexConflict] = []
        var ancestor: UnsafePointer<git_index_entry>?
        var ours: UnsafePointer<git_index_entry>?
        var theirs: UnsafePointer<git_index_entry>?
        while git_index_conflict_next(&ancestor, &ours, &theirs, iterator) == 0 {
            let path = (ours ?? theirs ?? ancestor).map { GitPath(bytes: bytesOfCString($0.pointee.path)) } ?? GitPath(bytes: [])
            func id(_ entry: UnsafePointer<git_index_entry>?) -> ObjectID? {
                guard let entry else { return nil }
                return withUnsafePointer(to: entry.pointee.id) { ObjectID($0) }
            }
            result.append(IndexConflict(path: path, ancestor: id(ancestor), ours: id(ours), theirs: id(theirs)))
        }
        return result
    }
}

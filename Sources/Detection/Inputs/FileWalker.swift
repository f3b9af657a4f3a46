import Foundation

/// A regular file to scan, as found by `FileWalker`.
public struct FileTarget: Sendable {
    /// Path as shown to the user: the scan root joined with the relative path (no leading `./`).
    public var displayPath: String
    /// Path relative to the scan root, for allowlist paths written relative to the repository.
    public var relativePath: String
    /// Path to open.
    public var openPath: String
    /// When reached through a symlink, the link's display path.
    public var symlinkPath: String
    public var size: Int
    /// The walked directory, open: `relativePath` is opened relative to it (`openat`), so the
    /// kernel does not look up every component of the root's own path for each file again.
    public var root: DirectoryHandle?

    public init(displayPath: String, relativePath: String, openPath: String, symlinkPath: String, size: Int,
                root: DirectoryHandle? = nil) {
        self.displayPath = displayPath
        self.relativePath = relativePath
        self.openPath = openPath
        self.symlinkPath = symlinkPath
        self.size = size
        self.root = root
    }
}

/// An open directory, closed when the last file found under it is done with it.
public final class DirectoryHandle: Sendable {
    public let descriptor: Int32

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        descriptor = fd
    }

    deinit { close(descriptor) }
}

/// Walks files and directories: honours `.gitignore` files (unless disabled), never enters `.git`,
/// follows symlinks only when asked, and detects symlink loops.
public struct FileWalker {
    public var respectGitignore = true
    public var followSymlinks = false
    /// Problems met on the way (unreadable directories, broken links, loops); the walk goes on.
    public private(set) var warnings: [String] = []

    public init(respectGitignore: Bool = true, followSymlinks: Bool = false) {
        self.respectGitignore = respectGitignore
        self.followSymlinks = followSymlinks
    }

    /// Every file under `root` (or `root` itself when it is a file). Throws when `root` is missing.
    public mutating func files(under root: String) throws -> [FileTarget] {
        var out = [FileTarget]()
        try walk(under: root) { out.append($0) }
        return out
    }

    /// Calls `emit` with every file under `root` (or `root` itself when it is a file) as the walk
    /// finds them, in the order `files(under:)` lists them. Throws when `root` is missing.
    public mutating func walk(under root: String, emit: (FileTarget) -> Void) throws {
        var st = stat()
        guard lstat(root, &st) == 0 || stat(root, &st) == 0 else {
            throw FileWalkError(path: root, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFLNK {
            guard stat(root, &st) == 0 else { throw FileWalkError(path: root, reason: "broken symlink") }
        }
        let display = root.hasPrefix("./") ? String(root.dropFirst(2)) : root
        if (st.st_mode & S_IFMT) == S_IFREG {
            emit(FileTarget(displayPath: display, relativePath: (root as NSString).lastPathComponent,
                            openPath: root, symlinkPath: "", size: Int(st.st_size)))
            return
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw FileWalkError(path: root, reason: "not a regular file or directory")
        }
        let matcher = PCRE2Matcher()
        var ignoreStack = [IgnoreScope]()
        if respectGitignore { ignoreStack = parentIgnoreRules(of: root) }
        var visited = Set<FileID>([FileID(st)])
        walk(directory: root, relative: "", displayRoot: display == "." ? "" : display, handle: DirectoryHandle(path: root),
             ignores: &ignoreStack, visited: &visited, matcher: matcher, emit: emit)
    }

    private struct FileID: Hashable {
        var device: UInt64
        var inode: UInt64
        init(_ st: stat) { device = UInt64(st.st_dev); inode = UInt64(st.st_ino) }
    }

    private mutating func walk(directory: String, relative: String, displayRoot: String, handle: DirectoryHandle?,
                               ignores: inout [IgnoreScope], visited: inout Set<FileID>,
                               matcher: PCRE2Matcher, emit: (FileTarget) -> Void) {
        guard let dir = opendir(directory) else {
            warnings.append("\(directory): cannot read directory: \(String(cString: strerror(errno)))")
            return
        }
        // Entries are looked up relative to the open directory (fstatat), not by full path: a
        // path walk from the root for every file was most of the time spent listing a large tree.
        defer { closedir(dir) }
        let fd = dirfd(dir)
        var entries = [(name: String, type: UInt8)]()
        var hasIgnoreFile = false
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            if name == ".gitignore" { hasIgnoreFile = true }
            entries.append((name, entry.pointee.d_type))
        }
        entries.sort { $0.name < $1.name }

        let pushed = respectGitignore && hasIgnoreFile && pushIgnoreFile(directory + "/.gitignore", base: relative, onto: &ignores)
        defer { if pushed { ignores.removeLast() } }

        for (name, type) in entries {
            if name == ".git" { continue }
            let path = directory + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            let display = displayRoot.isEmpty ? rel : displayRoot + "/" + rel
            var kind = type
            var st = stat()
            if kind == UInt8(DT_UNKNOWN) || kind == UInt8(DT_LNK) {
                guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                kind = Self.direntType(st.st_mode)
            }
            var symlinkPath = ""
            if kind == UInt8(DT_LNK) {
                guard followSymlinks else { continue }
                guard fstatat(fd, name, &st, 0) == 0 else {
                    warnings.append("\(display): broken symlink")
                    continue
                }
                kind = Self.direntType(st.st_mode)
                symlinkPath = display
            }
            let isDirectory = kind == UInt8(DT_DIR)
            if respectGitignore && isIgnored(rel, isDirectory: isDirectory, ignores: ignores, matcher: matcher) { continue }
            if isDirectory {
                if !symlinkPath.isEmpty || followSymlinks {
                    if st.st_ino == 0 { _ = fstatat(fd, name, &st, 0) }
                    guard visited.insert(FileID(st)).inserted else {
                        warnings.append("\(display): symlink loop, not followed again")
                        continue
                    }
                }
                walk(directory: path, relative: rel, displayRoot: displayRoot, handle: handle, ignores: &ignores,
                     visited: &visited, matcher: matcher, emit: emit)
            } else if kind == UInt8(DT_REG) {
                if st.st_ino == 0 && fstatat(fd, name, &st, 0) != 0 { continue }
                if symlinkPath.isEmpty {
                    emit(FileTarget(displayPath: display, relativePath: rel, openPath: path, symlinkPath: "", size: Int(st.st_size),
                                    root: handle))
                } else {
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? display
                    emit(FileTarget(displayPath: target, relativePath: rel, openPath: path, symlinkPath: symlinkPath, size: Int(st.st_size),
                                    root: handle))
                }
            }
        }
    }

    private static func direntType(_ mode: mode_t) -> UInt8 {
        switch mode & S_IFMT {
        case S_IFDIR: return UInt8(DT_DIR)
        case S_IFREG: return UInt8(DT_REG)
        case S_IFLNK: return UInt8(DT_LNK)
        default: return UInt8(DT_UNKNOWN)
        }
    }

    private func isIgnored(_ rel: String, isDirectory: Bool, ignores: [IgnoreScope], matcher: PCRE2Matcher) -> Bool {
        var ignored = false
        for scope in ignores {
            var local: String
            if scope.base.isEmpty { local = rel } else if rel.hasPrefix(scope.base + "/") { local = String(rel.dropFirst(scope.base.count + 1)) } else { continue }
            if !scope.prepend.isEmpty { local = scope.prepend + "/" + local }
            if let verdict = scope.rules.verdict(local, isDirectory: isDirectory, matcher: matcher) { ignored = verdict }
        }
        return ignored
    }

    private func pushIgnoreFile(_ path: String, base: String, onto stack: inout [IgnoreScope]) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        stack.append(IgnoreScope(base: base, prepend: "", rules: IgnoreRules(text: String(decoding: data, as: UTF8.self))))
        return true
    }

    /// `.gitignore` files of parent directories up to the enclosing git work tree's root, plus
    /// `.git/info/exclude`, rebased so they apply to paths relative to `root`.
    private func parentIgnoreRules(of root: String) -> [IgnoreScope] {
        let absolute = URL(fileURLWithPath: root).standardizedFileURL.path
        var chain = [String]()
        var dir = absolute
        var gitRoot: String?
        while true {
            if FileManager.default.fileExists(atPath: dir + "/.git") { gitRoot = dir; break }
            let parent = (dir as NSString).deletingLastPathComponent
            if parent == dir || parent.isEmpty { break }
            chain.append(parent)
            dir = parent
        }
        guard let gitRoot, gitRoot != absolute else {
            if let data = FileManager.default.contents(atPath: absolute + "/.git/info/exclude") {
                return [IgnoreScope(base: "", prepend: "", rules: IgnoreRules(text: String(decoding: data, as: UTF8.self)))]
            }
            return []
        }
        // Parent rules match paths relative to their own directory: prepend the root's path inside it.
        var stack = [IgnoreScope]()
        if let data = FileManager.default.contents(atPath: gitRoot + "/.git/info/exclude") {
            stack.append(IgnoreScope(base: "", prepend: String(absolute.dropFirst(gitRoot.count + 1)),
                                     rules: IgnoreRules(text: String(decoding: data, as: UTF8.self))))
        }
        for parent in chain.reversed() where parent.hasPrefix(gitRoot) {
            guard let data = FileManager.default.contents(atPath: parent + "/.gitignore") else { continue }
            stack.append(IgnoreScope(base: "", prepend: String(absolute.dropFirst(parent.count + 1)),
                                     rules: IgnoreRules(text: String(decoding: data, as: UTF8.self))))
        }
        return stack
    }
}

/// The ignore rules of one directory: `base` is where they apply (relative to the scan root),
/// `prepend` turns a root-relative path into one relative to the rules' own directory.
struct IgnoreScope {
    var base: String
    var prepend: String
    var rules: IgnoreRules
}

/// A scan root that cannot be walked.
public struct FileWalkError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

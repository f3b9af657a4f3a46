import Foundation

/// A git repository on disk, found from any path inside its work tree or from a bare repository.
/// Cheap to copy and share: scanners open one libgit2 handle per worker thread from `gitDirectory`.
public struct GitRepository: Sendable, Hashable {
    /// The `.git` directory (or the bare repository itself), with a trailing `/`.
    public let gitDirectory: String
    /// The work tree root with a trailing `/`, nil for a bare repository.
    public let workTree: String?
    /// The repository is a shallow clone: some commits' parents were never fetched.
    public let isShallow: Bool

    /// A bare repository has no work tree and no index of its own to diff.
    public var isBare: Bool { workTree == nil }

    /// Opens the repository containing `path`.
    /// - Throws: `GitHistoryError.notARepository` when there is none, `.corruptRepository` when it is unreadable.
    public init(discoveringFrom path: String) throws(GitHistoryError) {
        let handle = try RepositoryHandle.discover(from: path)
        self.init(handle)
    }

    init(_ handle: RepositoryHandle) {
        gitDirectory = handle.gitDirectory
        workTree = handle.isBare ? nil : handle.workTree
        isShallow = handle.isShallow
    }

    /// A fresh handle for the calling thread.
    func openHandle() throws(GitHistoryError) -> RepositoryHandle {
        try RepositoryHandle.open(gitDirectory: gitDirectory)
    }

    /// A fresh handle that reads only the object database, opened as if bare: libgit2 then skips the
    /// work tree's `.gitattributes` lookups (a `stat` per path) that otherwise dominate diffing history.
    func openObjectReader() throws(GitHistoryError) -> RepositoryHandle {
        try RepositoryHandle.open(gitDirectory: gitDirectory, asBare: true)
    }

    /// Commits listed in `shallow` (the commits whose parents a shallow clone did not fetch).
    func shallowRoots(commonDirectory: String) -> Set<ObjectID> {
        let url = URL(fileURLWithPath: commonDirectory).appendingPathComponent("shallow")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return Set(text.split(whereSeparator: \.isNewline).compactMap { ObjectID(hex: String($0)) })
    }
}

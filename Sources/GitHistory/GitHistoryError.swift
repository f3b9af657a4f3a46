/// Why a repository could not be opened, walked or diffed; each case names the path or ref involved.
public enum GitHistoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No repository at or above the path.
    case notARepository(path: String)
    /// The repository exists but libgit2 cannot read it (broken HEAD, config, packs, objects).
    case corruptRepository(path: String, reason: String)
    /// Staged or unstaged mode needs a work tree and an index; a bare repository has neither.
    case bareRepository(path: String, mode: String)
    /// The index file exists but cannot be parsed (bad checksum, truncated, unknown version).
    case corruptIndex(path: String, reason: String)
    /// Another git process is writing the index; reading it now could see a half-written state.
    case indexLocked(lockPath: String)
    /// A branch, tag or revision expression named by the user does not resolve to a commit.
    case unknownReference(String)
    /// A range is not of the form `A..B`.
    case invalidRange(String)
    /// Any other libgit2 failure, with the operation that failed and libgit2's message.
    case libgit2(operation: String, code: Int32, message: String)

    public var description: String {
        switch self {
        case .notARepository(let path): return "not a git repository: \(path)"
        case .corruptRepository(let path, let reason): return "corrupt git repository \(path): \(reason)"
        case .bareRepository(let path, let mode): return "\(mode) mode needs a work tree, but \(path) is a bare repository"
        case .corruptIndex(let path, let reason):
            if reason.contains("'link'") {
                // libgit2 1.5 cannot read a split index; the index is fine, just not readable here.
                return "cannot read git index \(path): it is a split index (core.splitIndex), which this build's libgit2 does not support; run `git update-index --no-split-index` (and `git config core.splitIndex false`)"
            }
            return "corrupt git index \(path): \(reason)"
        case .indexLocked(let lockPath): return "another git process holds \(lockPath); retry when it has finished"
        case .unknownReference(let ref): return "unknown git revision or ref: \(ref)"
        case .invalidRange(let range): return "invalid commit range \(range): expected A..B"
        case .libgit2(let operation, let code, let message): return "\(operation) failed (libgit2 error \(code)): \(message)"
        }
    }
}

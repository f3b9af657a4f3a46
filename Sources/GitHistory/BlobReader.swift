/// Reads whole blobs by id, for callers that need more than a diff's added lines (e.g. the full
/// manifest around a changed Kubernetes Secret). One per thread: it owns a libgit2 handle.
public final class BlobReader {
    private let handle: RepositoryHandle

    public init(repository: GitRepository) throws(GitHistoryError) {
        handle = try repository.openObjectReader()
    }

    /// The blob's bytes; nil when it is missing, not a blob, or larger than `maxSize`.
    public func read(_ id: ObjectID, maxSize: Int? = nil) throws(GitHistoryError) -> [UInt8]? {
        if case .content(let bytes) = try handle.readBlob(id, maxSize: maxSize) { return bytes }
        return nil
    }
}

import Foundation

/// How far a history walk has got, readable from any thread while it runs (for a progress line).
public final class WalkProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    private var walked = 0

    public init() {}

    /// Selected commits, known once the walk is planned; 0 before.
    public var totalCommits: Int { lock.withLock { total } }
    /// Commits whose trees (blob mode) or changes (diff mode) were handed to the workers.
    public var commitsWalked: Int { lock.withLock { walked } }

    func planned(_ commits: Int) { lock.withLock { total += commits } }
    func walked(_ commits: Int) { lock.withLock { walked += commits } }
}

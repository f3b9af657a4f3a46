import Foundation

/// Which commits a scan covers. The default is everything reachable from any ref, HEAD and the stash.
public struct CommitSelection: Sendable, Hashable {
    /// Where the walk starts.
    public enum Tips: Sendable, Hashable {
        /// Every local and remote branch, every tag (peeled), notes, the stash and its reflog, and HEAD
        /// even when detached.
        case allRefs
        /// Only these branches, tags or revision expressions (`main`, `origin/dev`, `v1.2`, a sha).
        case revisions([String])
    }

    public var tips: Tips
    /// Only commits whose committer date is at or after this moment.
    public var since: Date?
    /// `A..B`: commits reachable from B and not from A (an empty side means HEAD). Replaces `tips`.
    public var range: String?
    /// Leave out everything reachable from these revisions: `[remoteRef]` for a pre-push scan.
    public var excludingReachableFrom: [String]
    /// Keep only the newest `maxCount` commits of the selection.
    public var maxCount: Int?

    public init(tips: Tips = .allRefs, since: Date? = nil, range: String? = nil,
                excludingReachableFrom: [String] = [], maxCount: Int? = nil) {
        self.tips = tips
        self.since = since
        self.range = range
        self.excludingReachableFrom = excludingReachableFrom
        self.maxCount = maxCount
    }

    /// Everything reachable from any ref.
    public static let allRefs = CommitSelection()

    /// Only the named branches (or any revisions) and their ancestors.
    public static func branches(_ names: [String]) -> CommitSelection { CommitSelection(tips: .revisions(names)) }

    /// Commits in `A..B`.
    public static func range(_ range: String) -> CommitSelection { CommitSelection(range: range) }

    /// Commits reachable from any ref but not from `ref`: what a push would add to the remote.
    public static func notReachable(from ref: String) -> CommitSelection {
        CommitSelection(excludingReachableFrom: [ref])
    }
}

/// The commits a selection resolves to, oldest first, and what lies just outside it.
struct CommitPlan {
    /// Parents before children; among unrelated commits, older committer dates first.
    var commits: [ObjectID]
    /// Commits whose parents are missing (shallow clone): their whole tree appears "new" there.
    var shallowBoundary: Set<ObjectID>
    /// Commits outside the selection that selected commits have as parents. Their content already
    /// existed before the selection, so blob mode marks it seen instead of reporting it.
    var excludedParents: [ObjectID]
}

/// Resolves a `CommitSelection` into a `CommitPlan` with its own walk, because libgit2 1.5's revwalk
/// fails on shallow clones (it cannot find the boundary's parents).
struct CommitPlanner {
    let repository: GitRepository
    let handle: RepositoryHandle

    func plan(_ selection: CommitSelection) throws(GitHistoryError) -> CommitPlan {
        var tips: [ObjectID] = []
        var hiddenTips: [ObjectID] = []
        if let range = selection.range {
            let (from, to) = try Self.parseRange(range)
            hiddenTips.append(try handle.resolveCommit(from))
            tips.append(try handle.resolveCommit(to))
        } else {
            switch selection.tips {
            case .allRefs: tips = try handle.allReferenceTips()
            case .revisions(let names):
                for name in names { tips.append(try handle.resolveCommit(name)) }
            }
        }
        for revision in selection.excludingReachableFrom { hiddenTips.append(try handle.resolveCommit(revision)) }

        let shallowRoots = repository.shallowRoots(commonDirectory: handle.commonDirectory)
        let hidden = hiddenTips.isEmpty ? []
            : try hiddenCommits(hiddenTips: hiddenTips, interestingTips: tips, shallowRoots: shallowRoots)

        // Breadth-first over the selected commits, recording parent links by index.
        var indexOf: [ObjectID: Int] = [:]
        var ids: [ObjectID] = []
        var times: [Int64] = []
        var parentLinks: [[Int]] = []
        var outsideParents: [[ObjectID]] = []
        var boundary = Set<ObjectID>()
        var pending: [ObjectID] = []
        for tip in tips where !hidden.contains(tip) && indexOf[tip] == nil {
            indexOf[tip] = ids.count
            ids.append(tip)
            pending.append(tip)
        }
        times = Array(repeating: 0, count: ids.count)
        parentLinks = Array(repeating: [], count: ids.count)
        outsideParents = Array(repeating: [], count: ids.count)
        var cursor = 0
        while cursor < pending.count {
            let id = pending[cursor]
            cursor += 1
            guard let index = indexOf[id] else { continue }
            let commit = try handle.lookupCommit(id)
            times[index] = commit.committerTime
            if shallowRoots.contains(id) {
                boundary.insert(id)
                continue
            }
            for parent in commit.parentIDs {
                if hidden.contains(parent) {
                    outsideParents[index].append(parent)
                } else if let known = indexOf[parent] {
                    parentLinks[index].append(known)
                } else if handle.contains(parent) {
                    let newIndex = ids.count
                    indexOf[parent] = newIndex
                    ids.append(parent)
                    times.append(0)
                    parentLinks.append([])
                    outsideParents.append([])
                    pending.append(parent)
                    parentLinks[index].append(newIndex)
                } else {
                    boundary.insert(id)
                }
            }
        }

        var selected = [Bool](repeating: true, count: ids.count)
        if let since = selection.since {
            let limit = Int64(since.timeIntervalSince1970.rounded(.down))
            for index in ids.indices where times[index] < limit { selected[index] = false }
        }
        var order = topologicalOrder(parents: parentLinks, times: times, selected: selected)
        if let maxCount = selection.maxCount, order.count > maxCount {
            for index in order.prefix(order.count - max(0, maxCount)) { selected[index] = false }
            order.removeFirst(order.count - max(0, maxCount))
        }

        var excluded: [ObjectID] = []
        var excludedSeen = Set<ObjectID>()
        for index in order {
            let outside = outsideParents[index] + parentLinks[index].filter { !selected[$0] }.map { ids[$0] }
            for parent in outside where excludedSeen.insert(parent).inserted { excluded.append(parent) }
        }
        return CommitPlan(commits: order.map { ids[$0] }, shallowBoundary: boundary, excludedParents: excluded)
    }

    /// The commits reachable from `hiddenTips` that matter for cutting the walk from `interestingTips`.
    /// Like git's own limiting walk, newest first by committer date, it stops once every commit still
    /// queued is hidden (plus a few steps of slack for skewed clocks) instead of walking the whole
    /// history behind the hidden tips: a pre-push scan of one new commit costs a few lookups, not the
    /// remote's entire history. Skew beyond the slack can only make a hidden commit look selected
    /// (scanned needlessly), never the reverse.
    private func hiddenCommits(hiddenTips: [ObjectID], interestingTips: [ObjectID],
                               shallowRoots: Set<ObjectID>) throws(GitHistoryError) -> Set<ObjectID> {
        var isHidden: [ObjectID: Bool] = [:]
        var parentsOf: [ObjectID: [ObjectID]] = [:]
        var queue = MinHeap<(Int64, ObjectID)>(by: { $0.0 > $1.0 })
        var queuedInteresting = 0
        func enqueue(_ id: ObjectID, hidden: Bool) throws(GitHistoryError) {
            isHidden[id] = hidden
            queue.push((try handle.lookupCommit(id).committerTime, id))
            if !hidden { queuedInteresting += 1 }
        }
        for tip in hiddenTips where isHidden[tip] == nil { try enqueue(tip, hidden: true) }
        for tip in interestingTips where isHidden[tip] == nil { try enqueue(tip, hidden: false) }
        var slack = 5
        while let (_, id) = queue.pop() {
            let hidden = isHidden[id] ?? false
            if !hidden { queuedInteresting -= 1 }
            if queuedInteresting == 0 {
                slack -= 1
                if slack < 0 { break }
            }
            guard parentsOf[id] == nil else { continue }
            let parents = shallowRoots.contains(id) ? [] : try handle.lookupCommit(id).parentIDs.filter { handle.contains($0) }
            parentsOf[id] = parents
            for parent in parents {
                switch isHidden[parent] {
                case nil:
                    try enqueue(parent, hidden: hidden)
                case false? where hidden:
                    // Reached from both sides: hidden after all, and so is everything behind it.
                    var pending = [parent]
                    while let next = pending.popLast() {
                        guard isHidden[next] == false else { continue }
                        isHidden[next] = true
                        if parentsOf[next] == nil { queuedInteresting -= 1 } else { pending += parentsOf[next] ?? [] }
                    }
                default:
                    break
                }
            }
        }
        return Set(isHidden.compactMap { $0.value ? $0.key : nil })
    }

    /// Kahn's algorithm over the selected commits, choosing the oldest ready commit each step so that
    /// "first seen" means "earliest".
    private func topologicalOrder(parents: [[Int]], times: [Int64], selected: [Bool]) -> [Int] {
        var children = [[Int]](repeating: [], count: parents.count)
        var waiting = [Int](repeating: 0, count: parents.count)
        for child in parents.indices where selected[child] {
            for parent in parents[child] where selected[parent] {
                children[parent].append(child)
                waiting[child] += 1
            }
        }
        var ready = MinHeap<(Int64, Int)>(by: <)
        for index in parents.indices where selected[index] && waiting[index] == 0 { ready.push((times[index], index)) }
        var order: [Int] = []
        while let (_, index) = ready.pop() {
            order.append(index)
            for child in children[index] {
                waiting[child] -= 1
                if waiting[child] == 0 { ready.push((times[child], child)) }
            }
        }
        return order
    }

    /// Splits `A..B`; an empty side means HEAD. Three dots (symmetric difference) are rejected.
    static func parseRange(_ range: String) throws(GitHistoryError) -> (from: String, to: String) {
        guard !range.contains("..."), let dots = range.range(of: "..") else { throw .invalidRange(range) }
        let from = String(range[..<dots.lowerBound])
        let to = String(range[dots.upperBound...])
        guard !(from.isEmpty && to.isEmpty), !to.contains("..") else { throw .invalidRange(range) }
        return (from.isEmpty ? "HEAD" : from, to.isEmpty ? "HEAD" : to)
    }
}

/// A binary heap ordered by a caller-supplied comparison.
struct MinHeap<Element> {
    private var storage: [Element] = []
    private let areInOrder: (Element, Element) -> Bool

    init(by areInOrder: @escaping (Element, Element) -> Bool) { self.areInOrder = areInOrder }

    mutating func push(_ element: Element) {
        storage.append(element)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard areInOrder(storage[child], storage[parent]) else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !storage.isEmpty else { return nil }
        storage.swapAt(0, storage.count - 1)
        let top = storage.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < storage.count && areInOrder(storage[left], storage[smallest]) { smallest = left }
            if right < storage.count && areInOrder(storage[right], storage[smallest]) { smallest = right }
            if smallest == parent { break }
            storage.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

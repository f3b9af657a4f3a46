import Foundation

/// A blocking first-in first-out queue with a capacity, shared by one producer and several worker threads.
/// The capacity is what keeps memory bounded: the walk stalls while workers are behind.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private var finished = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Appends an element, waiting while the queue is full; false once the queue is finished or aborted.
    func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count - head >= capacity && !finished { condition.wait() }
        if finished { return false }
        items.append(element)
        condition.broadcast()
        return true
    }

    /// The next element, waiting while the queue is empty; nil when finished and drained.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.count == head && !finished { condition.wait() }
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        if head > 1_024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return element
    }

    /// No more elements will come; workers drain what is queued and stop.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops everything now: queued elements are dropped and the producer's next push fails.
    func abort() {
        condition.lock()
        finished = true
        items.removeAll()
        head = 0
        condition.broadcast()
        condition.unlock()
    }
}

/// A value written by several threads under a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withValue<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Dedicated threads (not the cooperative pool: workers block in libgit2 and on the queue).
struct WorkerThreads {
    private let group = DispatchGroup()

    /// Starts `count` threads running `body(workerIndex)`.
    init(count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        for index in 0..<count {
            group.enter()
            let group = self.group
            let thread = Thread {
                body(index)
                group.leave()
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// Waits for every thread to return.
    func join() { group.wait() }

    /// The worker count to use when the caller asks for 0: one per core.
    static func resolve(_ requested: Int) -> Int {
        requested > 0 ? requested : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}

import Foundation

/// A work queue keyed by object (`namespace/name`), as client-go's rate-limited queue: adding a key that is
/// already waiting is a no-op, a key added while it is being processed runs once more afterwards, and failed
/// keys come back after an exponential backoff until they have failed `maxRetries` times.
public actor WorkQueue {
    private var queue: [String] = []
    private var head = 0
    private var queued: Set<String> = []
    private var processing: Set<String> = []
    private var dirty: Set<String> = []
    private var failures: [String: Int] = [:]
    private var waiters: [CheckedContinuation<String?, Never>] = []
    private var closed = false
    /// Retries after the first failure.
    public nonisolated let maxRetries: Int
    /// First backoff, in seconds; doubles per failure.
    public nonisolated let baseDelay: Double
    /// Longest backoff, in seconds.
    public nonisolated let maxDelay: Double

    public init(maxRetries: Int = 5, baseDelay: Double = 0.1, maxDelay: Double = 60) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Queues `key` (coalesced with a waiting entry).
    public func add(_ key: String) {
        guard !closed else { return }
        if processing.contains(key) {
            dirty.insert(key)
            return
        }
        guard queued.insert(key).inserted else { return }
        if let waiter = waiters.first {
            waiters.removeFirst()
            queued.remove(key)
            processing.insert(key)
            waiter.resume(returning: key)
        } else {
            queue.append(key)
        }
    }

    /// The next key to process (marked in progress), or nil once the queue is shut down (keys still waiting
    /// then are not handed out).
    public func next() async -> String? {
        if closed { return nil }
        if let key = take() { return key }
        return await withCheckedContinuation { continuation in
            if let key = take() {
                continuation.resume(returning: key)
            } else if closed {
                continuation.resume(returning: nil)
            } else {
                waiters.append(continuation)
            }
        }
    }

    private func take() -> String? {
        guard head < queue.count else { return nil }
        let key = queue[head]
        head += 1
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        queued.remove(key)
        processing.insert(key)
        return key
    }

    /// Marks `key` processed; it is queued again if it was added meanwhile.
    public func done(_ key: String) {
        processing.remove(key)
        if dirty.remove(key) != nil { add(key) }
    }

    /// Clears the failure count of `key` (after a success).
    public func forget(_ key: String) { failures[key] = nil }

    /// Records a failure: schedules `key` again after a backoff and returns the delay, or returns nil when
    /// the key has used up its retries (it is then forgotten until it is added again).
    public func retryLater(_ key: String) -> Double? {
        let count = (failures[key] ?? 0) + 1
        guard count <= maxRetries else {
            failures[key] = nil
            return nil
        }
        failures[key] = count
        let delay = min(maxDelay, baseDelay * pow(2, Double(count - 1)))
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
            await self?.add(key)
        }
        return delay
    }

    /// Failures recorded for `key`.
    public func failureCount(_ key: String) -> Int { failures[key] ?? 0 }

    /// Keys waiting or in progress.
    public var count: Int { queue.count - head + processing.count }

    /// Stops handing out keys; waiting `next()` calls return nil.
    public func shutDown() {
        closed = true
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters = []
    }
}

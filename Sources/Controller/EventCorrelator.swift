import Foundation

/// Decides, for each Event the reconciler records, whether it becomes a new Event object, a PATCH of the
/// `count`/`lastTimestamp` of an earlier one, or nothing — the behaviour of client-go's EventCorrelator:
///
/// - **Deduplication**: an Event identical to an earlier one (same source, object, type, reason, message)
///   updates that Event's `count` and `lastTimestamp` instead of creating another.
/// - **Aggregation**: once `aggregateThreshold` Events with the same source, object, type and reason but
///   different messages arrive within `aggregateWindow`, further ones are folded into one Event whose message
///   starts with "(combined from similar events): ".
/// - **Spam filter**: a token bucket per object (burst `spamBurst`, one token per `spamRefill`) drops the rest.
///
/// One request per Event key is in flight at a time; repeats arriving meanwhile are coalesced into the next
/// PATCH. Everything is kept for the `capacity` most recently used keys (client-go's LRU caches hold 4096).
/// A plain value without I/O or clock of its own: `EventRecorder` owns it behind a lock and sends the requests.
struct EventCorrelator {
    /// One occurrence of an Event, as recorded.
    struct Occurrence: Sendable {
        /// What the Event is about: component, kind, namespace, name, uid, apiVersion (joined).
        let object: String
        let type: String
        let reason: String
        let message: String
        let time: Date
    }

    /// What to send for an Event key.
    struct Request: Sendable, Equatable {
        enum Kind: Sendable, Equatable {
            /// A new Event object.
            case create
            /// Update the existing Event `name`.
            case patch(name: String)
        }
        let key: String
        let kind: Kind
        let count: Int
        let message: String
        let firstTimestamp: Date
        let lastTimestamp: Date
    }

    /// How a request ended.
    enum Result: Sendable {
        /// Stored; the Event's name (for later PATCHes).
        case stored(name: String)
        /// A PATCH found no Event (expired on the server): create it again.
        case notFound
        /// Failed otherwise; the next occurrence tries again.
        case failed
    }

    static let combinedPrefix = "(combined from similar events): "

    var capacity = 4096
    var aggregateThreshold = 10
    var aggregateWindow: TimeInterval = 600
    var spamBurst = 25.0
    var spamRefill: TimeInterval = 300

    private struct Entry {
        var name: String?
        var count = 0
        var message = ""
        var firstTimestamp: Date
        var lastTimestamp: Date
        /// A request for this key is in flight.
        var busy = false
        /// Occurrences arrived while busy: send a PATCH when the request returns.
        var pending = false
    }

    private struct Similar {
        var messages: Set<String> = []
        var since: Date
    }

    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private var entries = RecentlyUsed<Entry>()
    private var similar = RecentlyUsed<Similar>()
    private var buckets = RecentlyUsed<Bucket>()

    init() {}

    /// Takes an occurrence; returns the request to send now, or nil (dropped as spam, or folded into the
    /// request in flight for the same key).
    mutating func observe(_ occurrence: Occurrence) -> Request? {
        guard allowedBySpamFilter(occurrence) else { return nil }
        let (key, message) = aggregated(occurrence)
        var entry = entries[key] ?? Entry(firstTimestamp: occurrence.time, lastTimestamp: occurrence.time)
        entry.count += 1
        entry.message = message
        entry.lastTimestamp = occurrence.time
        defer { entries.set(key, entry, capacity: capacity, keep: { $0.busy }) }
        if entry.busy {
            entry.pending = true
            return nil
        }
        entry.busy = true
        return request(key, entry)
    }

    /// Records how the request for `key` ended; returns the follow-up request (the coalesced repeats, or a
    /// create after a PATCH found nothing), or nil.
    mutating func finished(_ key: String, _ result: Result) -> Request? {
        guard var entry = entries[key] else { return nil }
        defer { entries.set(key, entry, capacity: capacity, keep: { $0.busy }) }
        switch result {
        case .stored(let name): entry.name = name
        case .notFound: entry.name = nil; entry.pending = true
        case .failed: break
        }
        guard entry.pending else {
            entry.busy = false
            return nil
        }
        entry.pending = false
        return request(key, entry)
    }

    private func request(_ key: String, _ entry: Entry) -> Request {
        Request(key: key, kind: entry.name.map { .patch(name: $0) } ?? .create, count: entry.count, message: entry.message,
                firstTimestamp: entry.firstTimestamp, lastTimestamp: entry.lastTimestamp)
    }

    private mutating func allowedBySpamFilter(_ occurrence: Occurrence) -> Bool {
        var bucket = buckets[occurrence.object] ?? Bucket(tokens: spamBurst, updated: occurrence.time)
        let elapsed = max(0, occurrence.time.timeIntervalSince(bucket.updated))
        bucket.tokens = min(spamBurst, bucket.tokens + elapsed / spamRefill)
        bucket.updated = occurrence.time
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        buckets.set(occurrence.object, bucket, capacity: capacity)
        return allowed
    }

    /// The dedup key and message: the occurrence's own, or the aggregate's once similar messages pile up.
    private mutating func aggregated(_ occurrence: Occurrence) -> (key: String, message: String) {
        let aggregateKey = [occurrence.object, occurrence.type, occurrence.reason].joined(separator: "\u{0}")
        var group = similar[aggregateKey] ?? Similar(since: occurrence.time)
        if occurrence.time.timeIntervalSince(group.since) > aggregateWindow { group = Similar(since: occurrence.time) }
        if group.messages.count < aggregateThreshold { group.messages.insert(occurrence.message) }
        similar.set(aggregateKey, group, capacity: capacity)
        if group.messages.count >= aggregateThreshold {
            return (aggregateKey + "\u{0}combined", Self.combinedPrefix + occurrence.message)
        }
        return (aggregateKey + "\u{0}" + occurrence.message, occurrence.message)
    }
}

/// A dictionary bounded to its most recently used keys: setting a key past `capacity` evicts the least
/// recently set one (skipping entries `keep` says to keep). Amortized O(1).
struct RecentlyUsed<Value> {
    private var values: [String: (value: Value, stamp: Int)] = [:]
    /// Keys in the order they were set, with the stamp they were set with (stale pairs are skipped).
    private var order: [(key: String, stamp: Int)] = []
    private var head = 0
    private var stamp = 0

    var count: Int { values.count }

    subscript(key: String) -> Value? { values[key]?.value }

    mutating func set(_ key: String, _ value: Value, capacity: Int, keep: (Value) -> Bool = { _ in false }) {
        stamp += 1
        values[key] = (value, stamp)
        order.append((key, stamp))
        var skipped = 0
        while values.count > capacity, head < order.count, skipped < values.count {
            let oldest = order[head]
            head += 1
            guard let current = values[oldest.key], current.stamp == oldest.stamp else { continue }
            if keep(current.value) {
                stamp += 1
                values[oldest.key] = (current.value, stamp)
                order.append((oldest.key, stamp))
                skipped += 1
            } else {
                values[oldest.key] = nil
            }
        }
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}

/// A set of object ids for the history walk's seen-lists: open addressing on the id's own leading
/// bits (already uniformly distributed, so no hashing), linear probing, grown at 50% load. The walk
/// asks it tens of millions of times on a large history, where `Set`'s SipHash was a visible cost.
struct ObjectIDSet {
    private var slots: [ObjectID?]
    private var mask: Int
    private(set) var count = 0

    init(minimumCapacity: Int = 1 << 12) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity <<= 1 }
        slots = Array(repeating: nil, count: capacity)
        mask = capacity - 1
    }

    /// Adds `id`; true when it was not there yet.
    @discardableResult
    mutating func insert(_ id: ObjectID) -> Bool {
        if (count + 1) * 2 > slots.count { grow() }
        var index = Int(truncatingIfNeeded: id.high) & mask
        while let existing = slots[index] {
            if existing == id { return false }
            index = (index + 1) & mask
        }
        slots[index] = id
        count += 1
        return true
    }

    func contains(_ id: ObjectID) -> Bool {
        var index = Int(truncatingIfNeeded: id.high) & mask
        while let existing = slots[index] {
            if existing == id { return true }
            index = (index + 1) & mask
        }
        return false
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: nil, count: old.count * 2)
        mask = slots.count - 1
        count = 0
        for case let id? in old { insert(id) }
    }
}

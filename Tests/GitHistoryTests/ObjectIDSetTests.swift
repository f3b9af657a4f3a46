import Foundation
@testable import GitHistory
import Testing

@Suite("ObjectIDSet: the walk's seen-lists")
struct ObjectIDSetTests {
    /// Ids with many equal leading words (colliding slots) and random ones, checked against `Set`.
    @Test func agreesWithSetThroughGrowthAndCollisions() {
        var generator = SystemRandomNumberGenerator()
        var ids = [ObjectID]()
        for index in 0..<5_000 {
            // Every fourth id shares its leading word with others: probing must compare the whole id.
            let high: UInt64 = index % 4 == 0 ? 42 : generator.next()
            ids.append(ObjectID(high: high, middle: generator.next(), low: UInt32(truncatingIfNeeded: index)))
        }
        var set = ObjectIDSet(minimumCapacity: 4)
        var reference = Set<ObjectID>()
        for id in ids + ids.prefix(1_000) {
            let inserted = set.insert(id)
            #expect(inserted == reference.insert(id).inserted)
        }
        #expect(set.count == reference.count)
        #expect(set.count == 5_000)
        for id in ids { #expect(set.contains(id)) }
        let absent = ObjectID(high: 42, middle: 7, low: 999_999)
        #expect(!set.contains(absent))
        let added = set.insert(absent)
        #expect(added)
        #expect(set.contains(absent))
    }
}

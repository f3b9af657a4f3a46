import Foundation
import Sealing
import Synchronization
import Testing
@testable import Controller

@Suite("Event correlation")
struct EventCorrelatorTests {
    static let start = Date(timeIntervalSince1970: 1_700_000_000)

    static func occurrence(_ object: String = "prod/db", reason: String = "ErrUpdateFailed", message: String = "conflict",
                           at offset: TimeInterval = 0) -> EventCorrelator.Occurrence {
        .init(object: object, type: "Warning", reason: reason, message: message, time: start + offset)
    }

    @Test func aRepeatPatchesTheCountOfTheEventAlreadyCreated() throws {
        var correlator = EventCorrelator()
        let firstRequest = correlator.observe(Self.occurrence())
        let first = try #require(firstRequest)
        #expect(first.kind == .create && first.count == 1)
        let afterCreate = correlator.finished(first.key, .stored(name: "db.e1"))
        #expect(afterCreate == nil)
        let secondRequest = correlator.observe(Self.occurrence(at: 30))
        let second = try #require(secondRequest)
        #expect(second.kind == .patch(name: "db.e1") && second.count == 2)
        #expect(second.firstTimestamp == Self.start && second.lastTimestamp == Self.start + 30)
        // A different message or object is an Event of its own.
        let otherMessage = correlator.observe(Self.occurrence(message: "other"))
        #expect(otherMessage?.kind == .create)
        let otherObject = correlator.observe(Self.occurrence("prod/web"))
        #expect(otherObject?.kind == .create)
    }

    @Test func repeatsWhileARequestIsInFlightGoOutAsOnePatch() throws {
        var correlator = EventCorrelator()
        let firstRequest = correlator.observe(Self.occurrence())
        let first = try #require(firstRequest)
        for second in 1...4 {
            let folded = correlator.observe(Self.occurrence(at: Double(second)))
            #expect(folded == nil)
        }
        let followUpRequest = correlator.finished(first.key, .stored(name: "db.e1"))
        let followUp = try #require(followUpRequest)
        #expect(followUp.kind == .patch(name: "db.e1") && followUp.count == 5 && followUp.lastTimestamp == Self.start + 4)
        let afterPatch = correlator.finished(first.key, .stored(name: "db.e1"))
        #expect(afterPatch == nil)
    }

    @Test func anExpiredEventIsCreatedAgainWithItsCount() throws {
        var correlator = EventCorrelator()
        let firstRequest = correlator.observe(Self.occurrence())
        let first = try #require(firstRequest)
        _ = correlator.finished(first.key, .stored(name: "db.e1"))
        let patchRequest = correlator.observe(Self.occurrence(at: 1))
        let patch = try #require(patchRequest)
        let recreateRequest = correlator.finished(patch.key, .notFound)
        let recreate = try #require(recreateRequest)
        #expect(recreate.kind == .create && recreate.count == 2)
    }

    @Test func manyDifferentMessagesAreAggregatedIntoOneEvent() throws {
        var correlator = EventCorrelator()
        var requests: [EventCorrelator.Request] = []
        for index in 0..<12 {
            if let request = correlator.observe(Self.occurrence(message: "failure \(index)", at: Double(index))) {
                requests.append(request)
                _ = correlator.finished(request.key, .stored(name: "db.e\(index)"))
            }
        }
        // Nine distinct Events, then the tenth message starts the combined Event, which the rest update.
        #expect(requests.prefix(9).allSatisfy { $0.kind == .create && !$0.message.hasPrefix(EventCorrelator.combinedPrefix) })
        #expect(requests[9].kind == .create && requests[9].message == EventCorrelator.combinedPrefix + "failure 9")
        #expect(requests[10].kind == .patch(name: "db.e9") && requests[10].message == EventCorrelator.combinedPrefix + "failure 10")
        #expect(requests[11].count == 3)
    }

    @Test func spamFromOneObjectIsDroppedUntilTokensRefill() throws {
        var correlator = EventCorrelator()
        var sent = 0
        for index in 0..<40 {
            if let request = correlator.observe(Self.occurrence(message: "m", at: Double(index))) {
                sent += 1
                _ = correlator.finished(request.key, .stored(name: "db.e1"))
            }
        }
        #expect(sent == 25)
        let otherObject = correlator.observe(Self.occurrence("prod/other", message: "m", at: 40))
        #expect(otherObject != nil, "other objects have their own bucket")
        let afterRefill = correlator.observe(Self.occurrence(message: "m", at: 40 + 300))
        #expect(afterRefill != nil, "one token back after five minutes")
    }

    @Test func theCachesKeepOnlyTheMostRecentKeys() throws {
        var correlator = EventCorrelator()
        correlator.capacity = 8
        let firstRequest = correlator.observe(Self.occurrence("ns/s0"))
        let first = try #require(firstRequest)
        _ = correlator.finished(first.key, .stored(name: "s0.e"))
        for index in 1...20 {
            let requestRequest = correlator.observe(Self.occurrence("ns/s\(index)"))
        let request = try #require(requestRequest)
            _ = correlator.finished(request.key, .stored(name: "s\(index).e"))
        }
        // s0 was evicted: it is created afresh; s20 is still known.
        let evicted = correlator.observe(Self.occurrence("ns/s0", at: 1))
        #expect(evicted?.kind == .create)
        let kept = correlator.observe(Self.occurrence("ns/s20", at: 1))
        #expect(kept?.kind == .patch(name: "s20.e"))
    }

    @Test func recentlyUsedEvictsTheLeastRecentlySetKey() {
        var cache = RecentlyUsed<Int>()
        for index in 0..<5 { cache.set("k\(index)", index, capacity: 3) }
        #expect(cache.count == 3)
        #expect(cache["k1"] == nil && cache["k2"] == 2 && cache["k4"] == 4)
        cache.set("k2", 22, capacity: 3)  // refreshed: k3 is now the oldest
        cache.set("k5", 5, capacity: 3)
        #expect(cache["k3"] == nil && cache["k2"] == 22)
        cache.set("k6", 6, capacity: 3, keep: { $0 == 22 })  // k2 is kept, so k4 goes
        #expect(cache["k2"] == 22 && cache["k4"] == nil && cache["k6"] == 6)
    }
}

@Suite("Events against a stand-in API server", .serialized)
struct EventRecorderTests {
    static func sealedSecret(_ name: String) -> ManifestObject {
        ManifestObject(ordered: [("metadata", .object(ManifestObject(ordered: [
            ("name", .string(name)), ("namespace", .string("prod")), ("uid", .string("uid-\(name)")), ("resourceVersion", .string("7")),
        ])))])
    }

    @Test func repeatedEventsRaiseTheCountOfOneEvent() async throws {
        let server = try await StandInAPIServer.start()
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, source: "stand-in"))
        let recorder = EventRecorder(client: client, logger: quietLogger)
        let sender = Task { await recorder.run() }
        let object = Self.sealedSecret("db")
        for _ in 0..<5 { recorder.record(object, type: "Warning", reason: "ErrUpdateFailed", message: "not managed") }
        recorder.record(object, type: "Normal", reason: "Unsealed", message: "SealedSecret unsealed successfully")
        func event(_ reason: String) async -> ManifestObject? {
            await server.cluster.events(for: "db").first { $0["reason"]?.string == reason }
        }
        #expect(await eventually {
            let unsealed = await event("Unsealed")
            let failed = await event("ErrUpdateFailed")
            return unsealed != nil && failed?["count"] == .number("5")
        })
        #expect(await server.cluster.events(for: "db").count == 2)
        let unsealed = await event("Unsealed")
        #expect(unsealed?["count"] == .number("1") && unsealed?["type"]?.string == "Normal")
        let failed = await event("ErrUpdateFailed")
        #expect(failed?["involvedObject"]?.object?["uid"]?.string == "uid-db")
        #expect(failed?["source"]?.object?["component"]?.string == "sealed-secrets")
        #expect(failed?["firstTimestamp"] != nil && failed?["lastTimestamp"] != nil)
        #expect(await server.cluster.requestCount("POST /api/v1/namespaces/prod/events") == 2)

        // The Event expired on the server: the next repeat creates it again, carrying the count on.
        await server.cluster.expireEvents()
        recorder.record(object, type: "Warning", reason: "ErrUpdateFailed", message: "not managed")
        #expect(await eventually { await event("ErrUpdateFailed")?["count"] == .number("6") })
        #expect(await server.cluster.events(for: "db").count == 1)
        recorder.finish()
        await sender.value
        await client.shutdown()
        await server.stop()
    }

    @Test func recordingNeverWaitsForTheAPIServer() async throws {
        let server = try await StandInAPIServer.start()
        await server.cluster.setDelay(.seconds(2))
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, source: "stand-in"))
        let recorder = EventRecorder(client: client, logger: quietLogger, capacity: 4, concurrency: 1)
        let sender = Task { await recorder.run() }
        // While the API server holds the first request, far more distinct events than the buffer holds are
        // recorded: recording returns anyway, the overflow is dropped, and what fitted is sent afterwards.
        recorder.record(Self.sealedSecret("s0"), type: "Normal", reason: "Unsealed", message: "ok")
        #expect(await eventually { await server.cluster.requestCount("POST /api/v1/namespaces/prod/events") == 1 })
        for index in 1..<50 { recorder.record(Self.sealedSecret("s\(index)"), type: "Normal", reason: "Unsealed", message: "ok") }
        await server.cluster.setDelay(.zero)
        recorder.finish()
        await sender.value
        // s0 in flight, at most one taken off the buffer by the sender, four buffered.
        let sent = await server.cluster.requestCount("POST /api/v1/namespaces/prod/events")
        #expect((5...6).contains(sent))
        #expect(await server.cluster.events(for: "s0").count == 1)
        #expect(await server.cluster.events(for: "s49").isEmpty)
        await client.shutdown()
        await server.stop()
    }
}

import Foundation
import Logging
import Sealing
import Synchronization

/// Sends Kubernetes Events in the background, as client-go's event broadcaster and recorder do: recording one
/// never waits for the API server; repeats are correlated (`EventCorrelator`: a repeat PATCHes the `count` and
/// `lastTimestamp` of the Event already sent, similar messages are aggregated, spam is dropped); a bounded
/// buffer holds what is not sent yet (further events are dropped and counted while it is full), and a few
/// requests are in flight at a time.
public final class EventRecorder: Sendable {
    private let client: KubernetesClient
    private let logger: Logger
    private let correlator: Mutex<EventCorrelator>
    private let stream: AsyncStream<Pending>
    private let continuation: AsyncStream<Pending>.Continuation
    /// Requests in flight at most.
    public let concurrency: Int

    /// A request with what is needed to build its Event.
    struct Pending: Sendable {
        let request: EventCorrelator.Request
        let involved: InvolvedObject
        let type: String
        let reason: String
    }

    /// The object an Event is about.
    struct InvolvedObject: Sendable {
        let name: String
        let namespace: String
        let uid: ManifestValue?
        let resourceVersion: ManifestValue?

        /// The correlator's identity of the object: component, kind, namespace, name, uid, apiVersion.
        var identity: String {
            [EventRecorder.component, SealedSecret.kind, namespace, name, uid?.string ?? "", SealedSecret.apiVersion].joined(separator: "\u{0}")
        }
    }

    /// The `source.component` of every Event (upstream's).
    static let component = "sealed-secrets"

    /// A recorder holding at most `capacity` unsent events (upstream's broadcaster queues 1000).
    public init(client: KubernetesClient, logger: Logger, capacity: Int = 1000, concurrency: Int = 4) {
        self.client = client
        self.logger = logger
        self.concurrency = max(1, concurrency)
        self.correlator = Mutex(EventCorrelator())
        (stream, continuation) = AsyncStream.makeStream(of: Pending.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    /// Records an Event on `object` (a SealedSecret); never blocks.
    public func record(_ object: ManifestObject, type: String, reason: String, message: String) {
        let meta = ObjectMeta(object["metadata"]?.object ?? ManifestObject())
        let involved = InvolvedObject(name: meta.name, namespace: meta.namespace, uid: meta.fields["uid"], resourceVersion: meta.fields["resourceVersion"])
        let occurrence = EventCorrelator.Occurrence(object: involved.identity, type: type, reason: reason, message: message, time: Date())
        guard let request = correlator.withLock({ $0.observe(occurrence) }) else { return }
        enqueue(Pending(request: request, involved: involved, type: type, reason: reason))
    }

    private func enqueue(_ pending: Pending) {
        if case .dropped = continuation.yield(pending) {
            // The key must not stay busy: the next occurrence sends again.
            _ = correlator.withLock { $0.finished(pending.request.key, .failed) }
            logger.warning("event buffer full; event dropped", metadata: [
                "sealedsecret": "\(pending.involved.namespace)/\(pending.involved.name)", "reason": "\(pending.reason)",
            ])
        }
    }

    /// Sends queued events until `finish()` has been called and the buffer is empty, or until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for await pending in stream {
                if inFlight >= concurrency {
                    await group.next()
                    inFlight -= 1
                }
                inFlight += 1
                group.addTask {
                    // The requests of one key go out one after another (a repeat waits for the Event's name).
                    var next: Pending? = pending
                    while let current = next {
                        let result = await self.send(current)
                        next = self.correlator.withLock { $0.finished(current.request.key, result) }.map {
                            Pending(request: $0, involved: current.involved, type: current.type, reason: current.reason)
                        }
                    }
                }
            }
            await group.waitForAll()
        }
    }

    /// No further events; `run` returns once the queued ones are sent.
    public func finish() { continuation.finish() }

    private func send(_ pending: Pending) async -> EventCorrelator.Result {
        let request = pending.request
        let namespace = pending.involved.namespace
        do {
            switch request.kind {
            case .create:
                // Named here, as client-go names them (object name + time in hex nanoseconds), so the answer
                // need not be parsed to learn the name for later PATCHes.
                let name = Self.name(for: pending.involved.name, at: request.lastTimestamp)
                try await client.create(KubePath.events(namespace: namespace), Self.event(pending, name: name), decode: false)
                return .stored(name: name)
            case .patch(let name):
                try await client.patch(KubePath.events(namespace: namespace) + "/" + name, Self.patch(request), decode: false)
                return .stored(name: name)
            }
        } catch let error as ControllerError where error.httpStatus == 404 && request.kind != .create {
            return .notFound
        } catch {
            logger.warning("recording an event failed", metadata: [
                "sealedsecret": "\(namespace)/\(pending.involved.name)", "reason": "\(pending.reason)", "error": "\(error)",
            ])
            return .failed
        }
    }

    /// An Event name: `<object name>.<time in hex nanoseconds>`.
    static func name(for object: String, at time: Date) -> String {
        let nanoseconds = UInt64(max(0, time.timeIntervalSince1970 * 1e9))
        return object + "." + String(nanoseconds, radix: 16)
    }

    /// The Event object (core/v1) to create.
    static func event(_ pending: Pending, name: String) -> ManifestObject {
        let involved = pending.involved
        let request = pending.request
        return ManifestObject(ordered: [
            ("apiVersion", .string("v1")), ("kind", .string("Event")),
            ("metadata", .object(ManifestObject(ordered: [("name", .string(name)), ("namespace", .string(involved.namespace))]))),
            ("involvedObject", .object(ManifestObject(ordered: [
                ("apiVersion", .string(SealedSecret.apiVersion)), ("kind", .string(SealedSecret.kind)),
                ("name", .string(involved.name)), ("namespace", .string(involved.namespace)),
                ("uid", involved.uid), ("resourceVersion", involved.resourceVersion),
            ]))),
            ("reason", .string(pending.reason)), ("message", .string(request.message)), ("type", .string(pending.type)),
            ("source", .object(ManifestObject(ordered: [("component", .string(component))]))),
            ("reportingComponent", .string(component)),
            ("firstTimestamp", .string(GoDuration.rfc3339(request.firstTimestamp))),
            ("lastTimestamp", .string(GoDuration.rfc3339(request.lastTimestamp))),
            ("count", .number(String(request.count))),
        ])
    }

    /// The merge patch of a repeat: count, lastTimestamp and (for aggregated events) message.
    static func patch(_ request: EventCorrelator.Request) -> ManifestObject {
        ManifestObject(ordered: [
            ("count", .number(String(request.count))), ("lastTimestamp", .string(GoDuration.rfc3339(request.lastTimestamp))),
            ("message", .string(request.message)),
        ])
    }
}

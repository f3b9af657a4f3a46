import Foundation
import Logging
import Sealing

/// Sends Kubernetes Events in the background, as client-go's event broadcaster does: recording one never
/// waits for the API server, a bounded buffer holds what is not sent yet (further events are dropped and
/// counted while it is full), and a few requests are in flight at a time.
public final class EventRecorder: Sendable {
    private let client: KubernetesClient
    private let logger: Logger
    private let stream: AsyncStream<ManifestObject>
    private let continuation: AsyncStream<ManifestObject>.Continuation
    /// Requests in flight at most.
    public let concurrency: Int

    /// A recorder holding at most `capacity` unsent events (upstream's broadcaster queues 1000).
    public init(client: KubernetesClient, logger: Logger, capacity: Int = 1000, concurrency: Int = 4) {
        self.client = client
        self.logger = logger
        self.concurrency = max(1, concurrency)
        (stream, continuation) = AsyncStream.makeStream(of: ManifestObject.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    /// Queues an Event on `object` (a SealedSecret); never blocks.
    public func record(_ object: ManifestObject, type: String, reason: String, message: String) {
        let event = Self.event(on: object, type: type, reason: reason, message: message, now: GoDuration.rfc3339(Date()))
        if case .dropped = continuation.yield(event) {
            let meta = ObjectMeta(object["metadata"]?.object ?? ManifestObject())
            logger.warning("event buffer full; event dropped", metadata: ["sealedsecret": "\(meta.displayName)", "reason": "\(reason)"])
        }
    }

    /// Sends queued events until `finish()` has been called and the buffer is empty, or until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for await event in stream {
                if inFlight >= concurrency {
                    await group.next()
                    inFlight -= 1
                }
                inFlight += 1
                group.addTask { await self.send(event) }
            }
            await group.waitForAll()
        }
    }

    /// No further events; `run` returns once the queued ones are sent.
    public func finish() { continuation.finish() }

    private func send(_ event: ManifestObject) async {
        let namespace = event["metadata"]?.object?["namespace"]?.string ?? ""
        do {
            try await client.create(KubePath.events(namespace: namespace), event, decode: false)
        } catch {
            let involved = event["involvedObject"]?.object
            logger.warning("recording an event failed", metadata: [
                "sealedsecret": "\(namespace)/\(involved?["name"]?.string ?? "")",
                "reason": "\(event["reason"]?.string ?? "")", "error": "\(error)",
            ])
        }
    }

    /// The Event object (core/v1) for `object`.
    static func event(on object: ManifestObject, type: String, reason: String, message: String, now: String) -> ManifestObject {
        let meta = ObjectMeta(object["metadata"]?.object ?? ManifestObject())
        return ManifestObject(ordered: [
            ("apiVersion", .string("v1")), ("kind", .string("Event")),
            ("metadata", .object(ManifestObject(ordered: [("generateName", .string(meta.name + ".")), ("namespace", .string(meta.namespace))]))),
            ("involvedObject", .object(ManifestObject(ordered: [
                ("apiVersion", .string(SealedSecret.apiVersion)), ("kind", .string(SealedSecret.kind)),
                ("name", .string(meta.name)), ("namespace", .string(meta.namespace)),
                ("uid", meta.fields["uid"]), ("resourceVersion", meta.fields["resourceVersion"]),
            ]))),
            ("reason", .string(reason)), ("message", .string(message)), ("type", .string(type)),
            ("source", .object(ManifestObject(ordered: [("component", .string("sealed-secrets"))]))),
            ("reportingComponent", .string("sealed-secrets")),
            ("firstTimestamp", .string(now)), ("lastTimestamp", .string(now)), ("count", .number("1")),
        ])
    }
}

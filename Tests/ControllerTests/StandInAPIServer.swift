import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Sealing
import Synchronization
@testable import Controller

/// A stand-in Kubernetes API server for the reconciler tests, on 127.0.0.1 over plain HTTP/1.1. It speaks the
/// wire format the controller relies on: JSON objects and lists with resourceVersion, chunked watch streams
/// (one JSON event per line) that replay from a resourceVersion, 404/409 Status answers, 410 Gone for a
/// compacted resourceVersion, and injected faults (5xx, dropped watches, slow responses).
actor StandInCluster {
    struct Entry {
        let revision: Int
        let resource: String
        let type: String
        let object: ManifestObject
        /// The object before this change (for label-selector watches: an object that stops matching is DELETED).
        var previous: ManifestObject? = nil
        /// The object's JSON, encoded once for the answer and every watch line.
        let json: String

        init(revision: Int, resource: String, type: String, object: ManifestObject, previous: ManifestObject? = nil, json: String? = nil) {
            self.revision = revision
            self.resource = resource
            self.type = type
            self.object = object
            self.previous = previous
            self.json = json ?? ManifestWriter.compactJSON(.object(object))
        }
    }

    struct Fault {
        let method: String?
        let pathContains: String
        let status: Int
        var remaining: Int
    }

    final class Watcher: Sendable {
        let resource: String
        let namespace: String?
        let selector: LabelSelector?
        let continuation: AsyncThrowingStream<ByteBuffer, Error>.Continuation
        init(resource: String, namespace: String?, selector: LabelSelector?, continuation: AsyncThrowingStream<ByteBuffer, Error>.Continuation) {
            self.resource = resource
            self.namespace = namespace
            self.selector = selector
            self.continuation = continuation
        }
    }

    private(set) var objects: [String: [String: ManifestObject]] = ["sealedsecrets": [:], "secrets": [:]]
    /// Each stored object's JSON (as in `Entry.json`), for GET and list answers without encoding again.
    private var encoded: [String: [String: String]] = [:]
    private(set) var events: [ManifestObject] = []
    private(set) var requests: [String] = []
    private var revision = 1000
    private var log: [Entry] = []
    private var compactedBefore = 0
    private var watchers: [UUID: Watcher] = [:]
    private var faults: [Fault] = []
    private var responseDelay: Duration = .zero
    private var uidCounter = 0

    // MARK: Test controls

    /// The next `count` requests whose method and path match answer `status`.
    func fail(_ method: String?, pathContains: String, status: Int, count: Int = 1) {
        faults.append(Fault(method: method, pathContains: pathContains, status: status, remaining: count))
    }

    /// Every response waits this long first.
    func setDelay(_ delay: Duration) { responseDelay = delay }

    /// Ends every open watch: cleanly (the server closed it) or abruptly (the connection breaks mid-stream).
    func dropWatches(abruptly: Bool) {
        for watcher in watchers.values {
            if abruptly {
                watcher.continuation.finish(throwing: CancellationError())
            } else {
                watcher.continuation.finish()
            }
        }
        watchers = [:]
    }

    /// Forgets history: watches from any resourceVersion seen so far get 410 Gone.
    func compact() {
        compactedBefore = revision + 1
        log.removeAll()
    }

    var openWatches: Int { watchers.count }

    func object(_ resource: String, _ namespace: String, _ name: String) -> ManifestObject? {
        objects[resource]?[namespace + "/" + name]
    }

    func eventReasons(for name: String) -> [String] {
        events.filter { $0["involvedObject"]?.object?["name"]?.string == name }.compactMap { $0["reason"]?.string }
    }

    /// The Event objects about `name`.
    func events(for name: String) -> [ManifestObject] {
        events.filter { $0["involvedObject"]?.object?["name"]?.string == name }
    }

    /// Forgets every Event (as the API server does when they expire).
    func expireEvents() { events.removeAll() }

    /// Requests by method and resource (`PUT sealedsecrets/status`, `POST events`, watches apart), most first.
    func requestSummary() -> [(key: String, value: Int)] {
        var counts: [String: Int] = [:]
        for request in requests {
            let parts = request.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let route = Route(String(parts[1])) else { continue }
            counts["\(parts[0]) \(route.resource)\(route.subresource.map { "/" + $0 } ?? "")\(route.name == nil ? " (collection)" : "")", default: 0] += 1
        }
        return counts.sorted { $0.value > $1.value }
    }

    func requestCount(_ prefix: String) -> Int { requests.filter { $0.hasPrefix(prefix) }.count }

    /// Creates an object as a client would (assigning uid, resourceVersion, generation).
    @discardableResult
    func create(_ resource: String, _ object: ManifestObject) throws -> ManifestObject {
        let meta = object["metadata"]?.object ?? ManifestObject()
        guard let namespace = meta["namespace"]?.string else { throw TestFailure("no namespace") }
        return try store(resource, namespace: namespace, object, method: "POST").object
    }

    /// Replaces an object's spec/data/metadata as `kubectl apply` would.
    func replace(_ resource: String, _ object: ManifestObject) throws {
        let meta = object["metadata"]?.object ?? ManifestObject()
        guard let namespace = meta["namespace"]?.string, let name = meta["name"]?.string,
              let current = objects[resource]?[namespace + "/" + name] else { throw TestFailure("no such object") }
        var updated = object
        var updatedMeta = meta
        updatedMeta["resourceVersion"] = current["metadata"]?.object?["resourceVersion"]
        updated["metadata"] = .object(updatedMeta)
        _ = try store(resource, namespace: namespace, updated, method: "PUT")
    }

    func remove(_ resource: String, _ namespace: String, _ name: String) {
        guard let current = objects[resource]?.removeValue(forKey: namespace + "/" + name) else { return }
        encoded[resource]?[namespace + "/" + name] = nil
        revision += 1
        var object = current
        setRevision(&object, revision)
        record(Entry(revision: revision, resource: resource, type: "DELETED", object: object, previous: current))
    }

    // MARK: Serving

    /// A request body as the API server reads it (JSON; YAML is accepted too). Parsed by the connection's
    /// task before it enters the actor, so the cluster's serial part stays short.
    nonisolated static func parse(_ body: ByteBuffer) -> ManifestObject? {
        let bytes = body.readableBytesView
        guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return nil }
        if first == UInt8(ascii: "{") { return (try? ManifestReader.jsonDocuments(Array(bytes), source: "body"))?.first?.object }
        return (try? ManifestReader.documents(in: String(buffer: body), source: "body"))?.first?.object
    }

    func handle(method: String, path: String, query: [String: String], object: ManifestObject?) async -> (Int, ByteBuffer?, AsyncThrowingStream<ByteBuffer, Error>?) {
        requests.append("\(method) \(path)")
        if responseDelay > .zero { try? await Task.sleep(for: responseDelay) }
        if let index = faults.firstIndex(where: { ($0.method == nil || $0.method == method) && path.contains($0.pathContains) && $0.remaining > 0 }) {
            faults[index].remaining -= 1
            return (faults[index].status, Self.status(faults[index].status, "injected failure"), nil)
        }
        guard let route = Route(path) else { return (404, Self.status(404, "no route \(path)"), nil) }
        switch (method, route.name, route.subresource) {
        case ("GET", nil, nil) where query["watch"] == "true":
            return (200, nil, watch(route, from: Int(query["resourceVersion"] ?? "") ?? 0, timeout: Int(query["timeoutSeconds"] ?? "") ?? 300,
                                    selector: query["labelSelector"]))
        case ("GET", nil, nil):
            return (200, list(route, selector: query["labelSelector"]), nil)
        case ("GET", let name?, nil):
            guard let namespace = route.namespace, let found = encoded[route.resource]?[namespace + "/" + name] else {
                return (404, Self.status(404, "\(route.resource) \"\(name)\" not found", reason: "NotFound"), nil)
            }
            return (200, ByteBuffer(string: found), nil)
        case ("POST", nil, nil):
            guard let namespace = route.namespace, let object else { return (400, Self.status(400, "bad request"), nil) }
            if route.resource == "events" {
                // Stored with a name (from generateName) so that repeats can PATCH it, as the API server does.
                var event = object
                var meta = event["metadata"]?.object ?? ManifestObject()
                if (meta["name"]?.string ?? "").isEmpty { uidCounter += 1; meta["name"] = .string((meta["generateName"]?.string ?? "event.") + "e\(uidCounter)") }
                event["metadata"] = .object(meta)
                events.append(event)
                return (201, Self.json(event), nil)
            }
            do {
                let stored = try store(route.resource, namespace: namespace, object, method: "POST")
                return (stored.status, ByteBuffer(string: stored.json), nil)
            } catch let failure as APIFailure {
                return (failure.status, Self.status(failure.status, failure.message, reason: failure.reason), nil)
            } catch {
                return (500, Self.status(500, "\(error)"), nil)
            }
        case ("PUT", _?, let subresource):
            guard let namespace = route.namespace, let object else { return (400, Self.status(400, "bad request"), nil) }
            do {
                let stored = try store(route.resource, namespace: namespace, object, method: "PUT", statusOnly: subresource == "status")
                return (stored.status, ByteBuffer(string: stored.json), nil)
            } catch let failure as APIFailure {
                return (failure.status, Self.status(failure.status, failure.message, reason: failure.reason), nil)
            } catch {
                return (500, Self.status(500, "\(error)"), nil)
            }
        case ("PATCH", let name?, nil) where route.resource == "events":
            // A merge patch of top-level fields (what the controller patches: count, lastTimestamp, message).
            guard let patch = object else { return (400, Self.status(400, "bad request"), nil) }
            guard let index = events.firstIndex(where: { $0["metadata"]?.object?["name"]?.string == name
                                                         && $0["metadata"]?.object?["namespace"]?.string == route.namespace }) else {
                return (404, Self.status(404, "events \"\(name)\" not found", reason: "NotFound"), nil)
            }
            for field in patch.fields { events[index][field.key] = field.value }
            return (200, Self.json(events[index]), nil)
        case ("DELETE", let name?, nil):
            guard let namespace = route.namespace, objects[route.resource]?[namespace + "/" + name] != nil else {
                return (404, Self.status(404, "not found", reason: "NotFound"), nil)
            }
            remove(route.resource, namespace, name)
            return (200, Self.status(200, "deleted"), nil)
        default:
            return (405, Self.status(405, "method not allowed"), nil)
        }
    }

    struct APIFailure: Error {
        let status: Int
        let reason: String
        let message: String
    }

    private func store(_ resource: String, namespace: String, _ input: ManifestObject, method: String,
                       statusOnly: Bool = false) throws -> (status: Int, object: ManifestObject, json: String) {
        var object = input
        var meta = object["metadata"]?.object ?? ManifestObject()
        var name = meta["name"]?.string ?? ""
        if name.isEmpty, let prefix = meta["generateName"]?.string {
            name = prefix + String((0..<5).map { _ in "bcdfghjklmnpqrstvwxz2456789".randomElement()! })
        }
        guard !name.isEmpty else { throw APIFailure(status: 422, reason: "Invalid", message: "name is required") }
        let key = namespace + "/" + name
        let current = objects[resource]?[key]
        revision += 1
        meta["name"] = .string(name)
        meta["namespace"] = .string(namespace)
        if method == "POST" {
            guard current == nil else {
                revision -= 1
                throw APIFailure(status: 409, reason: "AlreadyExists", message: "\(resource) \"\(name)\" already exists")
            }
            uidCounter += 1
            meta["uid"] = .string("uid-\(uidCounter)")
            meta["creationTimestamp"] = .string(GoDuration.rfc3339(Date()))
            if resource == "sealedsecrets" { meta["generation"] = .number("1") }
            object["status"] = nil
        } else {
            guard let current else {
                revision -= 1
                throw APIFailure(status: 404, reason: "NotFound", message: "\(resource) \"\(name)\" not found")
            }
            let currentMeta = current["metadata"]?.object ?? ManifestObject()
            if let sent = meta["resourceVersion"]?.string, !sent.isEmpty, sent != currentMeta["resourceVersion"]?.string {
                revision -= 1
                throw APIFailure(status: 409, reason: "Conflict",
                                 message: "Operation cannot be fulfilled on \(resource) \"\(name)\": the object has been modified")
            }
            meta["uid"] = currentMeta["uid"]
            meta["creationTimestamp"] = currentMeta["creationTimestamp"]
            if resource == "sealedsecrets" {
                if statusOnly {
                    var kept = current
                    kept["status"] = object["status"]
                    object = kept
                    meta = kept["metadata"]?.object ?? meta
                } else {
                    object["status"] = current["status"]
                    let generation = Int(Self.number(currentMeta["generation"]) ?? "1") ?? 1
                    meta["generation"] = .number(String(current["spec"] != object["spec"] ? generation + 1 : generation))
                }
            }
        }
        meta["resourceVersion"] = .string(String(revision))
        object["metadata"] = .object(meta)
        objects[resource, default: [:]][key] = object
        let entry = Entry(revision: revision, resource: resource, type: current == nil ? "ADDED" : "MODIFIED", object: object, previous: current)
        encoded[resource, default: [:]][key] = entry.json
        record(entry)
        return (current == nil ? 201 : 200, object, entry.json)
    }

    private func setRevision(_ object: inout ManifestObject, _ value: Int) {
        var meta = object["metadata"]?.object ?? ManifestObject()
        meta["resourceVersion"] = .string(String(value))
        object["metadata"] = .object(meta)
    }

    private func record(_ entry: Entry) {
        log.append(entry)
        let namespace = entry.object["metadata"]?.object?["namespace"]?.string
        for watcher in watchers.values where watcher.resource == entry.resource && (watcher.namespace == nil || watcher.namespace == namespace) {
            if let visible = Self.visible(entry, to: watcher.selector) { watcher.continuation.yield(Self.line(visible)) }
        }
    }

    private func list(_ route: Route, selector: String?) -> ByteBuffer {
        let items = (objects[route.resource] ?? [:]).filter { key, object in
            (route.namespace.map { key.hasPrefix($0 + "/") } ?? true) && Self.matches(object, selector)
        }.keys.sorted()
        // The list object with the stored JSON of each item spliced in (encoded once, when it was written).
        let kind = route.resource == "secrets" ? "SecretList" : "SealedSecretList"
        let apiVersion = route.resource == "secrets" ? "v1" : "bitnami.com/v1alpha1"
        let stored = encoded[route.resource] ?? [:]
        var body = ByteBuffer()
        body.writeString("{\"kind\":\"\(kind)\",\"apiVersion\":\"\(apiVersion)\",\"metadata\":{\"resourceVersion\":\"\(revision)\"},\"items\":[")
        for (index, key) in items.enumerated() {
            if index > 0 { body.writeString(",") }
            body.writeString(stored[key] ?? "{}")
        }
        body.writeString("]}")
        return body
    }

    private func watch(_ route: Route, from start: Int, timeout: Int, selector: String?) -> AsyncThrowingStream<ByteBuffer, Error> {
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, Error>.makeStream()
        if start < compactedBefore {
            let gone = ManifestObject(ordered: [("type", .string("ERROR")), ("object", .object(ManifestObject(ordered: [
                ("kind", .string("Status")), ("apiVersion", .string("v1")), ("status", .string("Failure")),
                ("message", .string("too old resource version: \(start) (\(compactedBefore))")),
                ("reason", .string("Expired")), ("code", .number("410")),
            ])))])
            continuation.yield(ByteBuffer(string: ManifestWriter.compactJSON(.object(gone)) + "\n"))
            continuation.finish()
            return stream
        }
        let labelSelector = selector.flatMap { try? LabelSelector(parsing: $0) }
        for entry in log where entry.revision > start && entry.resource == route.resource
            && (route.namespace == nil || entry.object["metadata"]?.object?["namespace"]?.string == route.namespace) {
            if let visible = Self.visible(entry, to: labelSelector) { continuation.yield(Self.line(visible)) }
        }
        let id = UUID()
        watchers[id] = Watcher(resource: route.resource, namespace: route.namespace, selector: labelSelector, continuation: continuation)
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(timeout))
            await self?.endWatch(id)
        }
        continuation.onTermination = { [weak self] _ in Task { await self?.forget(id) } }
        return stream
    }

    private func endWatch(_ id: UUID) {
        watchers.removeValue(forKey: id)?.continuation.finish()
    }

    private func forget(_ id: UUID) { watchers[id] = nil }

    static func matches(_ object: ManifestObject, _ selector: String?) -> Bool {
        guard let selector, !selector.isEmpty else { return true }
        guard let parsed = try? LabelSelector(parsing: selector) else { return false }
        return parsed.matches(ObjectMeta(object["metadata"]?.object ?? ManifestObject()).labels)
    }

    /// What a watch with `selector` sees of `entry`, as the API server does: an object that starts matching is
    /// ADDED, one that stops matching is DELETED, changes that never match are not sent.
    static func visible(_ entry: Entry, to selector: LabelSelector?) -> Entry? {
        guard let selector else { return entry }
        func matching(_ object: ManifestObject?) -> Bool {
            object.map { selector.matches(ObjectMeta($0["metadata"]?.object ?? ManifestObject()).labels) } ?? false
        }
        if entry.type == "DELETED" { return matching(entry.object) ? entry : nil }
        switch (matching(entry.previous), matching(entry.object)) {
        case (true, true): return entry
        case (false, true): return Entry(revision: entry.revision, resource: entry.resource, type: "ADDED", object: entry.object, json: entry.json)
        case (true, false): return Entry(revision: entry.revision, resource: entry.resource, type: "DELETED", object: entry.object, json: entry.json)
        case (false, false): return nil
        }
    }

    static func number(_ value: ManifestValue?) -> String? {
        switch value {
        case .number(let text)?: return text
        case .string(let text)?: return text
        default: return nil
        }
    }

    static func line(_ entry: Entry) -> ByteBuffer {
        ByteBuffer(string: "{\"type\":\"\(entry.type)\",\"object\":" + entry.json + "}\n")
    }

    static func json(_ object: ManifestObject) -> ByteBuffer { ByteBuffer(string: ManifestWriter.compactJSON(.object(object))) }

    static func status(_ code: Int, _ message: String, reason: String = "") -> ByteBuffer {
        json(ManifestObject(ordered: [("kind", .string("Status")), ("apiVersion", .string("v1")),
                                      ("status", .string(code < 300 ? "Success" : "Failure")), ("message", .string(message)),
                                      ("reason", .string(reason)), ("code", .number(String(code)))]))
    }

    /// A parsed API path.
    struct Route {
        let resource: String
        let namespace: String?
        let name: String?
        let subresource: String?

        init?(_ path: String) {
            var parts = path.split(separator: "/").map(String.init)
            if parts.starts(with: ["apis", "bitnami.com", "v1alpha1"]) {
                parts.removeFirst(3)
            } else if parts.starts(with: ["api", "v1"]) {
                parts.removeFirst(2)
            } else {
                return nil
            }
            var namespace: String?
            if parts.first == "namespaces", parts.count >= 3 {
                namespace = parts[1]
                parts.removeFirst(2)
            }
            guard let resource = parts.first, ["sealedsecrets", "secrets", "events"].contains(resource) else { return nil }
            self.resource = resource
            self.namespace = namespace
            self.name = parts.count > 1 ? parts[1] : nil
            self.subresource = parts.count > 2 ? parts[2] : nil
        }
    }
}

/// Serves a `StandInCluster` over HTTP/1.1 on 127.0.0.1 with a plain SwiftNIO pipeline: a request is read on
/// its event loop, answered by the cluster actor, and written back (Content-Length, keep-alive); a watch is
/// written as chunked transfer encoding, one event line per chunk. (Earlier it ran on Hummingbird, whose
/// async request and response streams cost several task switches per request; the throughput benchmark counts
/// the stand-in's CPU with the controller's, so the harness is kept lean. The wire format is the same.)
struct StandInAPIServer {
    let cluster: StandInCluster
    let channel: any Channel
    let connections: ConnectionSet
    let port: Int

    var url: String { "http://127.0.0.1:\(port)" }

    static func start() async throws -> StandInAPIServer {
        let cluster = StandInCluster()
        let connections = ConnectionSet()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                connections.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(StandInHTTPHandler(cluster: cluster))
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        return StandInAPIServer(cluster: cluster, channel: channel, connections: connections, port: channel.localAddress?.port ?? 0)
    }

    /// Ends the watches (cleanly), stops listening and closes every connection.
    func stop() async {
        await cluster.dropWatches(abruptly: false)
        try? await channel.close()
        await connections.closeAll()
    }
}

/// The open connections of the stand-in, to close them at stop.
final class ConnectionSet: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in _ = self.channels.withLock { $0.removeValue(forKey: id) } }
    }

    func closeAll() async {
        for channel in channels.withLock({ Array($0.values) }) { try? await channel.close() }
    }

    /// How many connections are open now.
    var count: Int { channels.withLock { $0.count } }
}

/// One connection's requests: collected on the event loop, then handed to the cluster.
final class StandInHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let cluster: StandInCluster
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(cluster: StandInCluster) { self.cluster = cluster }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            self.head = nil
            let request = Request(method: head.method.rawValue, uri: head.uri, keepAlive: head.isKeepAlive, object: StandInCluster.parse(body))
            let channel = context.channel
            let cluster = self.cluster
            let task = Task { await StandInHTTPHandler.serve(request, cluster: cluster, on: channel) }
            // A client that goes away ends its watch (the cluster forgets the watcher).
            channel.closeFuture.whenComplete { _ in task.cancel() }
        }
    }

    /// A request as read off the connection.
    struct Request: Sendable {
        let method: String
        let uri: String
        let keepAlive: Bool
        let object: ManifestObject?
    }

    static func serve(_ request: Request, cluster: StandInCluster, on channel: any Channel) async {
        let (path, query) = split(request.uri)
        let answer = await cluster.handle(method: request.method, path: path, query: query, object: request.object)
        await respond(on: channel, status: answer.0, body: answer.1, stream: answer.2, keepAlive: request.keepAlive)
    }

    /// Path and percent-decoded query parameters of a request URI.
    static func split(_ uri: String) -> (path: String, query: [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let key = parts.first?.removingPercentEncoding else { continue }
            let value = parts.count > 1 ? parts[1] : ""
            query[key] = value.removingPercentEncoding ?? value
        }
        return (String(uri[..<mark]), query)
    }

    /// Writes the end of the answer, then closes the connection unless it is kept alive.
    static func end(_ channel: any Channel, keepAlive: Bool) {
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: written)
        if !keepAlive { written.futureResult.whenComplete { _ in channel.close(promise: nil) } }
    }

    static func respond(on channel: any Channel, status: Int, body: ByteBuffer?, stream: AsyncThrowingStream<ByteBuffer, Error>?,
                        keepAlive: Bool) async {
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        guard let stream else {
            let body = body ?? ByteBuffer()
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
            end(channel, keepAlive: keepAlive)
            return
        }
        // No Content-Length: NIO's encoder frames the body as chunked.
        channel.writeAndFlush(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)),
                              promise: nil)
        do {
            for try await line in stream {
                channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(line)), promise: nil)
            }
            end(channel, keepAlive: keepAlive)
        } catch {
            // Dropped abruptly (or the client left): the connection breaks mid-stream, without the final chunk.
            channel.close(promise: nil)
        }
    }
}

/// Polls `condition` until it holds or `seconds` pass. The bound is generous on purpose: on a loaded 2-core CI
/// machine, synchronous CPU-heavy tests can hold the cooperative pool's threads for tens of seconds, and a wait that
/// holds early returns early anyway.
func eventually(_ seconds: Double = 60, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Sealing
import Synchronization

/// One event of a watch stream.
public struct WatchEvent: Sendable {
    /// `ADDED`, `MODIFIED`, `DELETED` or `BOOKMARK`.
    public let type: String
    /// The object (for a bookmark, only its metadata.resourceVersion).
    public let object: ManifestObject
}

/// Why a watch ended early.
public enum WatchEnd: Error, Sendable {
    /// The resourceVersion is too old (410 Gone): list again.
    case expired
}

/// A small Kubernetes REST client over AsyncHTTPClient: JSON get/list/create/update/delete and watch streams.
public final class KubernetesClient: Sendable {
    /// Where it connects.
    public let connection: KubernetesConnection
    private let http: HTTPClient
    private let requestTimeout: TimeAmount
    /// Client-side limit on requests (`--kubeclient-qps`/`--kubeclient-burst`); nil = none.
    public let rateLimiter: TokenBucket?
    /// A token file's content and when it was read: as client-go, it is read again once a minute, not per request.
    private let cachedToken = Mutex<(token: String?, read: ContinuousClock.Instant)?>(nil)
    static let tokenRefresh: Duration = .seconds(60)

    public init(connection: KubernetesConnection, requestTimeout: TimeAmount = .seconds(30), rateLimiter: TokenBucket? = nil) throws {
        self.connection = connection
        self.requestTimeout = requestTimeout
        self.rateLimiter = rateLimiter
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)))
        if connection.server.lowercased().hasPrefix("https://") {
            configuration.tlsConfiguration = try connection.tlsConfiguration()
        }
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        // No distributed tracing: without a tracer AsyncHTTPClient skips building a (no-op) span per request.
        configuration.tracing.tracer = nil
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes connections.
    public func shutdown() async {
        shutDown.withLock { $0 = true }
        try? await http.shutdown()
    }

    /// Whether `shutdown()` was called.
    private let shutDown = Mutex(false)

    /// A client released without `shutdown()` (a caller's error path) still closes its connections, in the
    /// background: AsyncHTTPClient would otherwise leak them, and its debug builds stop the process.
    deinit {
        guard !shutDown.withLock({ $0 }) else { return }
        let http = self.http
        Task { try? await http.shutdown() }
    }

    private func url(_ path: String, _ query: [(String, String)]) -> String {
        var base = connection.server
        while base.hasSuffix("/") { base.removeLast() }
        guard !query.isEmpty else { return base + path }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let encoded = query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
        return base + path + "?" + encoded.joined(separator: "&")
    }

    private func headers(contentType: String?) throws -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: "sealant-controller")
        if let token = try bearerToken(), !token.isEmpty {
            headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        return headers
    }

    /// The bearer token: a fixed one, or the token file's content read at most once a minute (rotated service
    /// account tokens are picked up; a failed read is retried on the next request).
    private func bearerToken() throws -> String? {
        guard connection.tokenFile != nil else { return connection.token }
        let now = ContinuousClock.now
        if let cached = cachedToken.withLock({ $0 }), now - cached.read < Self.tokenRefresh { return cached.token }
        let token = try connection.bearerToken()
        cachedToken.withLock { $0 = (token, now) }
        return token
    }

    /// A streaming request (watches).
    private func makeRequest(_ method: HTTPMethod, _ path: String, query: [(String, String)] = []) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(path, query))
        request.method = method
        request.headers = try headers(contentType: nil)
        return request
    }

    /// Sends a request and returns the status and the JSON body (nil when empty or not JSON). With
    /// `decodeSuccess` false the body of a 2xx answer is not parsed (the caller does not need it).
    public func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
                     body: ManifestValue? = nil, contentType: String = "application/json",
                     decodeSuccess: Bool = true) async throws -> (status: Int, body: ManifestObject?) {
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url(path, query), method: method, headers: try headers(contentType: body == nil ? nil : contentType),
                                             body: body.map { .byteBuffer(ByteBuffer(string: ManifestWriter.compactJSON($0))) })
        } catch let error as ControllerError {
            throw error
        } catch {
            throw ControllerError.transport(object: "\(method.rawValue) \(path)", reason: "\(error)")
        }
        try await rateLimiter?.acquire()
        do {
            // The whole answer is collected on the event loop (one hand-over to this task, instead of a body
            // stream); cancelling the calling task cancels the request.
            let task = http.execute(request: request, delegate: ResponseAccumulator(request: request), deadline: .now() + requestTimeout)
            let response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            let status = Int(response.status.code)
            if !decodeSuccess && (200..<300).contains(status) { return (status, nil) }
            guard let buffer = response.body else { return (status, nil) }
            return (status, Self.object(in: buffer.readableBytesView, source: path))
        } catch let error as ControllerError {
            throw error
        } catch {
            throw ControllerError.transport(object: "\(method.rawValue) \(path)", reason: "\(error)")
        }
    }

    /// GET an object; nil when it does not exist.
    public func get(_ path: String) async throws -> ManifestObject? {
        let (status, body) = try await send(.GET, path)
        if status == 404 { return nil }
        return try Self.check(status, body, object: path)
    }

    /// LIST a collection (all pages): the items and the list's resourceVersion.
    public func list(_ path: String, labelSelector: String? = nil) async throws -> (items: [ManifestObject], resourceVersion: String) {
        var items: [ManifestObject] = []
        var continueToken: String?
        var resourceVersion = ""
        repeat {
            var query: [(String, String)] = [("limit", "500")]
            if let labelSelector { query.append(("labelSelector", labelSelector)) }
            if let continueToken { query.append(("continue", continueToken)) }
            let (status, body) = try await send(.GET, path, query: query)
            let list = try Self.check(status, body, object: path)
            if case .array(let entries)? = list["items"] { items += entries.compactMap(\.object) }
            let metadata = list["metadata"]?.object
            resourceVersion = metadata?["resourceVersion"]?.string ?? resourceVersion
            continueToken = metadata?["continue"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        } while continueToken != nil
        return (items, resourceVersion)
    }

    /// POST a new object into a collection; returns the stored object (empty when `decode` is false).
    @discardableResult
    public func create(_ collection: String, _ object: ManifestObject, decode: Bool = true) async throws -> ManifestObject {
        let (status, body) = try await send(.POST, collection, body: .object(object), decodeSuccess: decode)
        return try Self.check(status, body, object: collection)
    }

    /// PUT an object (optimistic concurrency through its metadata.resourceVersion); returns the stored object
    /// (empty when `decode` is false).
    @discardableResult
    public func update(_ path: String, _ object: ManifestObject, decode: Bool = true) async throws -> ManifestObject {
        let (status, body) = try await send(.PUT, path, body: .object(object), decodeSuccess: decode)
        return try Self.check(status, body, object: path)
    }

    /// PATCH an object with a strategic merge patch (for the plain fields the controller patches, the same as
    /// a JSON merge patch); returns the stored object (empty when `decode` is false).
    @discardableResult
    public func patch(_ path: String, _ patch: ManifestObject, decode: Bool = true) async throws -> ManifestObject {
        let (status, body) = try await send(.PATCH, path, body: .object(patch), contentType: "application/strategic-merge-patch+json",
                                            decodeSuccess: decode)
        return try Self.check(status, body, object: path)
    }

    /// DELETE an object; a missing object is not an error.
    public func delete(_ path: String) async throws {
        let (status, body) = try await send(.DELETE, path)
        if status == 404 { return }
        _ = try Self.check(status, body, object: path)
    }

    /// Watches a collection from `resourceVersion`. Events arrive as the server sends them; the stream ends when
    /// the server closes it, throws `WatchEnd.expired` on 410 Gone, and throws `ControllerError` on other failures.
    public func watch(_ path: String, resourceVersion: String, timeoutSeconds: Int = 300,
                      labelSelector: String? = nil) -> AsyncThrowingStream<WatchEvent, Error> {
        var query: [(String, String)] = [("watch", "true"), ("allowWatchBookmarks", "true"),
                                         ("resourceVersion", resourceVersion), ("timeoutSeconds", String(timeoutSeconds))]
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        let http = self.http
        let deadline = TimeAmount.seconds(Int64(timeoutSeconds) + 30)
        let requestResult = Result { try makeRequest(.GET, path, query: query) }
        let rateLimiter = self.rateLimiter
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let request = try requestResult.get()
                    try await rateLimiter?.acquire()
                    let response = try await http.execute(request, timeout: deadline)
                    let status = Int(response.status.code)
                    guard status == 200 else {
                        let buffer = try await response.body.collect(upTo: 1 << 20)
                        if status == 410 { throw WatchEnd.expired }
                        throw ControllerError.kubernetes(object: path, status: status, reason: Self.reason(String(buffer: buffer)))
                    }
                    // One event per line; a chunk may hold many lines or part of one.
                    var pending: [UInt8] = []
                    for try await chunk in response.body {
                        let bytes = chunk.readableBytesView
                        var start = bytes.startIndex
                        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
                            let line: [UInt8]
                            if pending.isEmpty {
                                line = Array(bytes[start..<newline])
                            } else {
                                line = pending + bytes[start..<newline]
                                pending.removeAll(keepingCapacity: true)
                            }
                            start = bytes.index(after: newline)
                            guard !line.isEmpty else { continue }
                            if let event = try Self.decode(line, path: path) { continuation.yield(event) }
                        }
                        pending += bytes[start...]
                    }
                    if !pending.isEmpty, let event = try Self.decode(pending, path: path) { continuation.yield(event) }
                    continuation.finish()
                } catch let error as WatchEnd {
                    continuation.finish(throwing: error)
                } catch let error as ControllerError {
                    continuation.finish(throwing: error)
                } catch {
                    continuation.finish(throwing: ControllerError.transport(object: "watch \(path)", reason: "\(error)"))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The JSON object in a response body (nil when empty or not an object).
    static func object(in bytes: some Collection<UInt8>, source: String) -> ManifestObject? {
        guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return nil }
        if first == UInt8(ascii: "{") { return (try? ManifestReader.jsonDocuments(Array(bytes), source: source))?.first?.object }
        return (try? ManifestReader.documents(in: String(decoding: bytes, as: UTF8.self), source: source))?.first?.object
    }

    static func decode(_ line: [UInt8], path: String) throws -> WatchEvent? {
        guard let object = (try? ManifestReader.jsonDocuments(line, source: path))?.first?.object,
              let type = object["type"]?.string, let body = object["object"]?.object else {
            throw ControllerError.transport(object: "watch \(path)", reason: "unreadable watch event")
        }
        if type == "ERROR" {
            let code = body["code"]?.string ?? (body["code"].flatMap { if case .number(let n) = $0 { return n } else { return nil } })
            if code == "410" || body["reason"]?.string == "Expired" || body["reason"]?.string == "Gone" { throw WatchEnd.expired }
            throw ControllerError.kubernetes(object: "watch \(path)", status: Int(code ?? "") ?? 500,
                                             reason: body["message"]?.string ?? "watch error")
        }
        return WatchEvent(type: type, object: body)
    }

    static func check(_ status: Int, _ body: ManifestObject?, object: String) throws -> ManifestObject {
        guard (200..<300).contains(status) else {
            throw ControllerError.kubernetes(object: object, status: status, reason: body?["message"]?.string ?? "request failed")
        }
        return body ?? ManifestObject()
    }

    static func reason(_ text: String) -> String {
        if let object = (try? ManifestReader.documents(in: text, source: "response"))?.first?.object,
           let message = object["message"]?.string {
            return message
        }
        return String(text.prefix(200))
    }
}

/// Kubernetes API paths the controller uses.
public enum KubePath {
    /// SealedSecrets in `namespace`, or in all namespaces when nil.
    public static func sealedSecrets(namespace: String?) -> String {
        namespace.map { "/apis/bitnami.com/v1alpha1/namespaces/\($0)/sealedsecrets" } ?? "/apis/bitnami.com/v1alpha1/sealedsecrets"
    }
    /// One SealedSecret.
    public static func sealedSecret(namespace: String, name: String) -> String { sealedSecrets(namespace: namespace) + "/" + name }
    /// Secrets in `namespace`, or in all namespaces when nil.
    public static func secrets(namespace: String?) -> String {
        namespace.map { "/api/v1/namespaces/\($0)/secrets" } ?? "/api/v1/secrets"
    }
    /// One Secret.
    public static func secret(namespace: String, name: String) -> String { secrets(namespace: namespace) + "/" + name }
    /// Events in `namespace`.
    public static func events(namespace: String) -> String { "/api/v1/namespaces/\(namespace)/events" }
}

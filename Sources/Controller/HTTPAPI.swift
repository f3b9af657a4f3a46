import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Sealing

/// Request context of the controller's HTTP servers: Hummingbird's core context plus the peer address,
/// which keys the verify rate limit when no `X-Forwarded-For` header is present.
public struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's socket address.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Limits and throttles of the HTTP API.
public struct APILimits: Sendable {
    /// Largest request body accepted (bytes); larger bodies get 413.
    public var maxBodyBytes: Int
    /// `/v1/verify` requests per second per client (`--rate-limit`); 0 turns limiting off.
    public var verifyRate: Double
    /// Back-to-back `/v1/verify` requests allowed per client (`--rate-limit-burst`).
    public var verifyBurst: Int
    /// Longest a handler may run before the client gets 503 (`--write-timeout`), in seconds.
    public var handlerTimeout: Double
    /// Longest a connection may stay idle (`--read-timeout`), in seconds.
    public var idleTimeout: Double

    public init(maxBodyBytes: Int = 1 << 20, verifyRate: Double = 2, verifyBurst: Int = 2,
                handlerTimeout: Double = 120, idleTimeout: Double = 120) {
        self.maxBodyBytes = maxBodyBytes
        self.verifyRate = verifyRate
        self.verifyBurst = verifyBurst
        self.handlerTimeout = handlerTimeout
        self.idleTimeout = idleTimeout
    }
}

/// The controller's HTTP API: `/healthz`, `/v1/cert.pem`, `/v1/verify`, `/v1/rotate` (what kubeseal and
/// `sealant seal/validate/reencrypt --controller` call), and the separate `/metrics` endpoint.
public struct ControllerAPI: Sendable {
    /// Keys to seal and unseal with.
    public let registry: KeyRegistry
    /// Where request metrics go.
    public let metrics: ControllerMetrics
    /// Body size, rate and time limits.
    public let limits: APILimits
    private let limiter: RateLimiter
    private let logger: Logger

    static let knownPaths: Set<String> = ["/healthz", "/v1/cert.pem", "/v1/verify", "/v1/rotate"]

    public init(registry: KeyRegistry, metrics: ControllerMetrics, limits: APILimits = APILimits(), logger: Logger) {
        self.registry = registry
        self.metrics = metrics
        self.limits = limits
        self.limiter = RateLimiter(rate: limits.verifyRate, burst: limits.verifyBurst)
        self.logger = logger
    }

    /// Routes of the API server. Every endpoint answers GET and POST (upstream accepts any method).
    public func router() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics, knownPaths: Self.knownPaths))
        let timeout = limits.handlerTimeout
        for method in [HTTPRequest.Method.get, .post, .head, .put] {
            router.on("/healthz", method: method) { _, _ in Self.text(.ok, "ok\n") }
            router.on("/v1/cert.pem", method: method) { _, _ in try await certificate() }
            router.on("/v1/verify", method: method) { request, context in
                try await Self.withDeadline(timeout) { try await verify(request, context: context) }
            }
            router.on("/v1/rotate", method: method) { request, context in
                try await Self.withDeadline(timeout) { try await rotate(request, context: context) }
            }
        }
        return router
    }

    /// Routes of the metrics server.
    public func metricsRouter() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        let metrics = self.metrics
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        router.get("/healthz") { _, _ in Self.text(.ok, "ok\n") }
        return router
    }

    func certificate() async throws -> Response {
        guard let newest = await registry.snapshot().newest else {
            return Self.text(.internalServerError, "no key available\n")
        }
        let pem = try newest.keyPair.certificate.pem()
        return Response(status: .ok, headers: [.contentType: "application/x-pem-file"],
                        body: .init(byteBuffer: ByteBuffer(string: pem)))
    }

    func verify(_ request: Request, context: APIRequestContext) async throws -> Response {
        let client = Self.clientKey(request, context: context)
        let decision = limiter.admit("/v1/verify|" + client, now: Self.monotonicSeconds())
        guard decision.allowed else {
            var response = Self.text(.tooManyRequests, "rate limit exceeded\n")
            if let name = HTTPField.Name("Retry-After") {
                response.headers[name] = String(Int(decision.retryAfter.rounded(.up)))
            }
            return response
        }
        let sealed: SealedSecret
        switch try await Self.readSealedSecret(request, limit: limits.maxBodyBytes) {
        case .failure(let failure): return failure.response
        case .success(let value): sealed = value
        }
        let snapshot = await registry.snapshot()
        do {
            _ = try snapshot.unsealer.unseal(sealed)
            return Self.text(.ok, "ok\n")
        } catch {
            logger.info("verify: cannot unseal", metadata: ["sealedsecret": "\(sealed.metadata.displayName)", "error": "\(error)"])
            return Self.text(.conflict, "\(error)\n")
        }
    }

    func rotate(_ request: Request, context: APIRequestContext) async throws -> Response {
        let sealed: SealedSecret
        switch try await Self.readSealedSecret(request, limit: limits.maxBodyBytes) {
        case .failure(let failure): return failure.response
        case .success(let value): sealed = value
        }
        let snapshot = await registry.snapshot()
        do {
            var rotated = try snapshot.unsealer.reencrypt(sealed, with: try snapshot.sealer())
            rotated.status = nil
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: ManifestWriter.compactJSON(rotated.manifest()))))
        } catch let error as ControllerError {
            return Self.text(.internalServerError, "\(error)\n")
        } catch {
            logger.info("rotate: cannot unseal", metadata: ["sealedsecret": "\(sealed.metadata.displayName)", "error": "\(error)"])
            return Self.text(.conflict, "\(error)\n")
        }
    }

    /// The request's SealedSecret, or the 4xx response that explains why there is none.
    static func readSealedSecret(_ request: Request, limit: Int) async throws -> Result<SealedSecret, ResponseFailure> {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return .failure(ResponseFailure(text(.contentTooLarge, "request body larger than \(limit) bytes\n")))
        }
        let text = String(buffer: body)
        let documents: [ManifestValue]
        do {
            documents = try ManifestReader.documents(in: text, source: "request body")
        } catch {
            return .failure(ResponseFailure(Self.text(.badRequest, "\(error)\n")))
        }
        guard documents.count == 1, let document = documents.first else {
            return .failure(ResponseFailure(Self.text(.badRequest, documents.isEmpty
                ? "request body: no SealedSecret\n" : "request body: expected one SealedSecret, found \(documents.count) documents\n")))
        }
        do {
            return .success(try SealedSecret(manifest: document, source: "request body"))
        } catch {
            return .failure(ResponseFailure(Self.text(.badRequest, "\(error)\n")))
        }
    }

    /// `X-Forwarded-For` when a proxy sets it (kubeseal comes through the API server's service proxy), else the peer IP.
    static func clientKey(_ request: Request, context: APIRequestContext) -> String {
        if let name = HTTPField.Name("X-Forwarded-For"), let forwarded = request.headers[name], !forwarded.isEmpty {
            return forwarded
        }
        return context.remoteAddress?.ipAddress ?? "unknown"
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Seconds on a monotonic clock since the first call.
    static func monotonicSeconds() -> Double {
        let elapsed = MonotonicReference.start.duration(to: ContinuousClock.now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// The instant monotonic seconds are counted from.
enum MonotonicReference {
    static let start = ContinuousClock.now
}

/// A ready-made error response carried through a `Result`.
struct ResponseFailure: Error, Sendable {
    let response: Response
    init(_ response: Response) { self.response = response }
}

/// Counts and times every request under upstream's metric names.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let metrics: ControllerMetrics
    let knownPaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = knownPaths.contains(request.uri.path) ? request.uri.path : "other"
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            metrics.recordHTTPRequest(path: path, method: method, code: response.status.code, duration: ContinuousClock.now - start)
            return response
        } catch {
            let code = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordHTTPRequest(path: path, method: method, code: code, duration: ContinuousClock.now - start)
            throw error
        }
    }
}

extension ControllerAPI {
    /// Runs `body`, answering 503 when it takes longer than `seconds` (the write timeout).
    static func withDeadline(_ seconds: Double, _ body: @escaping @Sendable () async throws -> Response) async throws -> Response {
        guard seconds > 0 else { return try await body() }
        let outcome = try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        return outcome ?? text(.serviceUnavailable, "request timed out\n")
    }
}


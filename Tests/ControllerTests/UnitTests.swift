import Foundation
import Logging
import Synchronization
import Testing
@testable import Controller

@Suite("Flag parsing and rate limiting")
struct UnitTests {
    @Test func goDurations() throws {
        #expect(try GoDuration.seconds("720h", flag: "x") == 720 * 3600)
        #expect(try GoDuration.seconds("1h30m", flag: "x") == 5400)
        #expect(try GoDuration.seconds("250ms", flag: "x") == 0.25)
        #expect(try GoDuration.seconds("0", flag: "x") == 0)
        #expect(throws: ControllerError.self) { try GoDuration.seconds("12", flag: "x") }
        #expect(throws: ControllerError.self) { try GoDuration.seconds("3d", flag: "x") }
    }

    @Test func cutoffTime() throws {
        let date = try GoDuration.rfc1123Z("Mon, 02 Jan 2006 15:04:05 -0700", flag: "key-cutoff-time")
        #expect(date.timeIntervalSince1970 == 1_136_239_445)
        #expect(throws: ControllerError.self) { try GoDuration.rfc1123Z("yesterday", flag: "key-cutoff-time") }
    }

    @Test func listenAddresses() throws {
        #expect(try ListenAddress(parsing: ":8080", flag: "listen-addr") == ListenAddress(host: "0.0.0.0", port: 8080))
        #expect(try ListenAddress(parsing: "127.0.0.1:0", flag: "listen-addr") == ListenAddress(host: "127.0.0.1", port: 0))
        #expect(try ListenAddress(parsing: "[::1]:9", flag: "listen-addr") == ListenAddress(host: "::1", port: 9))
        #expect(throws: ControllerError.self) { try ListenAddress(parsing: "8080", flag: "listen-addr") }
        #expect(throws: ControllerError.self) { try ListenAddress(parsing: ":99999", flag: "listen-addr") }
    }

    @Test func gcraAllowsTheBurstThenTheRate() {
        let limiter = RateLimiter(rate: 2, burst: 2)
        #expect(limiter.admit("a", now: 100).allowed)
        #expect(limiter.admit("a", now: 100).allowed)
        let third = limiter.admit("a", now: 100)
        #expect(!third.allowed)
        #expect(abs(third.retryAfter - 0.5) < 1e-6)
        #expect(limiter.admit("b", now: 100).allowed, "clients are limited separately")
        #expect(!limiter.admit("a", now: 100.4).allowed)
        #expect(limiter.admit("a", now: 100.5).allowed)
        #expect(!limiter.admit("a", now: 100.5).allowed)
        #expect(limiter.admit("a", now: 110).allowed)
        #expect(limiter.admit("a", now: 110).allowed)
    }

    @Test func gcraOff() {
        let limiter = RateLimiter(rate: 0, burst: 1)
        for _ in 0..<100 { #expect(limiter.admit("a", now: 1).allowed) }
    }

    @Test func tokenBucketLetsTheBurstThroughThenQueuesAtTheRate() {
        let start = ContinuousClock.now
        let bucket = TokenBucket(rate: 10, burst: 2)
        #expect(bucket.reserve(now: start) == 0)
        #expect(bucket.reserve(now: start) == 0)
        // Empty: the next two wait one and two intervals, in arrival order.
        #expect(abs(bucket.reserve(now: start) - 0.1) < 1e-9)
        #expect(abs(bucket.reserve(now: start) - 0.2) < 1e-9)
        // A second later the bucket is full again (never more than the burst).
        let later = start + .seconds(1.3)
        #expect(bucket.reserve(now: later) == 0)
        #expect(bucket.reserve(now: later) == 0)
        #expect(bucket.reserve(now: later) > 0)
    }

    @Test func theClientTakesATokenPerRequest() async throws {
        let server = try await StandInAPIServer.start()
        let bucket = TokenBucket(rate: 0.001, burst: 3)
        // A generous deadline: this asserts token counting, and the whole suite shares 2 cores (a fresh-clone run once
        // saw a request here fail, cause unrecorded, while CPU-heavy suites ran alongside).
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, source: "stand-in"), requestTimeout: .seconds(180),
                                          rateLimiter: bucket)
        _ = try await client.get(KubePath.secret(namespace: "a", name: "x"))
        _ = try await client.list(KubePath.secrets(namespace: "a"))
        #expect(bucket.reserve() == 0, "one token left of three")
        #expect(bucket.reserve() > 0)
        await client.shutdown()
        await server.stop()
    }

    @Test func aClientReleasedWithoutShutdownClosesItsConnections() async throws {
        let server = try await StandInAPIServer.start()
        do {
            let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, source: "stand-in"), requestTimeout: .seconds(180))
            _ = try await client.get(KubePath.secret(namespace: "a", name: "x"))
            #expect(server.connections.count == 1, "the answered request's connection stays open in the pool")
        }
        // Released without shutdown() (as on a test's or a caller's error path): the connection is closed in the
        // background, instead of AsyncHTTPClient's debug check stopping the process or the connection leaking.
        #expect(await eventually(10) { server.connections.count == 0 })
        await server.stop()
    }

    @Test func conditionInfoIsRenderedOncePerSealedSecretWithEscapedLabels() {
        let metrics = ControllerMetrics()
        metrics.recordCondition(namespace: "a", name: "one", condition: "Synced", status: false, instance: "")
        metrics.recordCondition(namespace: "a", name: "one", condition: "Synced", status: true, instance: "")
        metrics.recordCondition(namespace: "b", name: "two", condition: "Synced", status: nil, instance: "x\"y\\z")
        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(text.contains("# TYPE sealed_secrets_controller_condition_info gauge\n"))
        #expect(text.contains(#"sealed_secrets_controller_condition_info{namespace="a",name="one",condition="Synced",ss_app_kubernetes_io_instance=""} 1.0"#))
        #expect(!text.contains(#"name="one",condition="Synced",ss_app_kubernetes_io_instance=""} -1"#), "the latest value only")
        #expect(text.contains(#"{namespace="b",name="two",condition="Synced",ss_app_kubernetes_io_instance="x\"y\\z"} 0.0"#))
    }

    @Test func cancellingARequestEndsItWithoutWaitingForTheAnswer() async throws {
        let server = try await StandInAPIServer.start()
        await server.cluster.setDelay(.seconds(120))
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, source: "stand-in"), requestTimeout: .seconds(300))
        let finished = Mutex(false)
        let request = Task {
            defer { finished.withLock { $0 = true } }
            return try await client.get(KubePath.secret(namespace: "a", name: "x"))
        }
        #expect(await eventually { await server.cluster.requestCount("GET /api/v1/namespaces/a/secrets/x") == 1 })
        request.cancel()
        #expect(await eventually(60) { finished.withLock { $0 } }, "the request ends long before the 120 s answer")
        await #expect(throws: (any Error).self) { try await request.value }
        await client.shutdown()
        await server.cluster.setDelay(.zero)
        await server.stop()
    }
}

/// The levels a `CapturingLogHandler` was asked to log.
private final class LevelRecords: Sendable {
    let levels = Mutex<[Logger.Level]>([])
}

/// Collects the levels it is asked to log.
private struct CapturingLogHandler: LogHandler {
    let records: LevelRecords
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        records.levels.withLock { $0.append(event.level) }
    }
}

@Suite("Log routing")
struct LogRoutingTests {
    @Test func levelsBelowWarningGoToTheFirstHandlerTheRestToTheSecond() {
        let low = LevelRecords()
        let high = LevelRecords()
        let handler = LevelSplitLogHandler(below: .warning, to: CapturingLogHandler(records: low), rest: CapturingLogHandler(records: high))
        var logger = Logger(label: "test") { _ in handler }
        logger.logLevel = .debug
        logger.trace("dropped by the level")
        logger.debug("d")
        logger.info("i")
        logger.notice("n")
        logger.warning("w")
        logger.error("e")
        logger.critical("c")
        #expect(low.levels.withLock { $0 } == [.debug, .info, .notice])
        #expect(high.levels.withLock { $0 } == [.warning, .error, .critical])
    }
}

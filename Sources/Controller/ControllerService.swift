import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import Sealing
import ServiceLifecycle
import Synchronization

/// Everything `sealant controller` is configured with (flag names in the doc comments).
public struct ControllerConfiguration: Sendable {
    /// `--listen-addr`.
    public var listenAddress = ListenAddress(host: "0.0.0.0", port: 8080)
    /// `--listen-metrics-addr`.
    public var metricsAddress = ListenAddress(host: "0.0.0.0", port: 8081)
    /// How new keys are made (`--key-size`, `--key-ttl`, `--my-cn`).
    public var keyGeneration = KeyGenerationOptions()
    /// `--key-renew-period` in seconds; 0 turns renewal off.
    public var keyRenewPeriod: Double = 720 * 3600
    /// `--key-cutoff-time`.
    public var keyCutoff: Date?
    /// `--key-order-priority`.
    public var keyOrder = KeyOrderPriority.certNotBefore
    /// How often a key directory (or, without a watch, the key Secrets) is read again to pick up keys added,
    /// relabelled or removed (`--key-reload-interval`; 0 = never).
    public var keyReloadInterval: Double = 30
    /// Watch the key Secrets in a cluster instead of polling them (`--watch-key-secrets`).
    public var watchKeySecrets = true
    /// How long a graceful shutdown waits for reconciles in progress, in seconds.
    public var shutdownGrace: Double = 10
    /// API limits (`--rate-limit`, `--rate-limit-burst`, `--max-request-bytes`, `--read-timeout`, `--write-timeout`).
    public var limits = APILimits()

    public init() {}
}

/// The running controller: key registry and its upkeep (reload, renewal timer, SIGUSR1), the HTTP API and
/// the metrics server, plus extra long-running tasks given to `run` (the reconciler).
public final class ControllerService: Sendable {
    /// The configuration it runs with.
    public let configuration: ControllerConfiguration
    /// The key registry.
    public let registry: KeyRegistry
    /// The metrics.
    public let metrics: ControllerMetrics
    private let logger: Logger
    private let apiPort = PortLatch()
    private let metricsPort = PortLatch()
    private let stopRequest = AsyncStream<Void>.makeStream()

    public init(configuration: ControllerConfiguration, store: any KeyStore, metrics: ControllerMetrics = ControllerMetrics(),
                logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.registry = KeyRegistry(store: store, generation: configuration.keyGeneration, order: configuration.keyOrder, logger: logger)
    }

    /// The API's bound port, once it listens (useful with port 0).
    public func boundAPIPort() async -> Int { await apiPort.value() }
    /// The metrics server's bound port, once it listens.
    public func boundMetricsPort() async -> Int { await metricsPort.value() }

    /// Loads or creates the keys, then serves (and runs `extraTasks`, e.g. the reconciler, once keys are
    /// loaded) until cancelled, until a task fails, or until `shutDown()` (which returns normally).
    /// `stopHooks` run at a graceful shutdown, before waiting for `extraTasks` to end (the reconciler's `stop`).
    public func run(extraTasks: [@Sendable () async throws -> Void] = [], stopHooks: [@Sendable () async -> Void] = []) async throws {
        try await registry.start(cutoff: configuration.keyCutoff)
        if let newest = await registry.snapshot().newest {
            logger.info("sealing with key", metadata: ["fingerprint": "\(newest.fingerprint)", "secret": "\(newest.name)"])
        }
        let api = ControllerAPI(registry: registry, metrics: metrics, limits: configuration.limits, logger: logger)
        let idle = TimeAmount.milliseconds(Int64(configuration.limits.idleTimeout * 1000))
        let apiApp = Application(
            router: api.router(), server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: .init(address: .hostname(configuration.listenAddress.host, port: configuration.listenAddress.port),
                                 serverName: nil),
            onServerRunning: { [apiPort, logger] channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("HTTP API listening", metadata: ["port": "\(port)"])
                apiPort.set(port)
            },
            logger: logger)
        let metricsApp = Application(
            router: api.metricsRouter(), server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: .init(address: .hostname(configuration.metricsAddress.host, port: configuration.metricsAddress.port),
                                 serverName: nil),
            onServerRunning: { [metricsPort, logger] channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("metrics listening", metadata: ["port": "\(port)"])
                metricsPort.set(port)
            },
            logger: logger)
        // The extra tasks (the reconciler) and the two HTTP servers run apart from the other loops, so a graceful
        // shutdown can let the reconciler finish its work first and then shut the servers down gracefully
        // (listeners closed, idle connections closed, requests in progress answered) rather than cancel them.
        let extras = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in extraTasks { group.addTask { try await task() } }
                try await group.waitForAll()
            }
        }
        let servers = ServiceGroup(services: [apiApp, metricsApp], logger: logger)
        let serving = Task { try await servers.run() }
        let grace = configuration.shutdownGrace
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await serving.value; return false }
                group.addTask { try await self.keyFollowLoop(); return false }
                group.addTask { try await self.renewalLoop(); return false }
                group.addTask { await self.signalLoop(); return false }
                if !extraTasks.isEmpty { group.addTask { try await extras.value; return false } }
                group.addTask {
                    for await _ in self.stopRequest.stream { return true }
                    return !Task.isCancelled
                }
                defer { group.cancelAll() }
                guard try await group.next() == true else { return }
                logger.notice("shutting down: stopping the informers, finishing reconciles in progress",
                              metadata: ["grace_seconds": "\(grace)"])
                for hook in stopHooks { await hook() }
                if !(await Self.finishes(within: grace, extras)) {
                    logger.warning("reconciles still running after the grace period; cancelling them")
                    extras.cancel()
                    _ = await extras.result
                }
                logger.notice("closing the HTTP listeners")
                await servers.triggerGracefulShutdown()
                if !(await Self.finishes(within: grace, serving)) {
                    logger.warning("HTTP requests still running after the grace period; closing the servers")
                    serving.cancel()
                    _ = await serving.result
                }
            }
        } onCancel: {
            extras.cancel()
            serving.cancel()
        }
        extras.cancel()
        serving.cancel()
        _ = await serving.result
    }

    /// Whether `task` ends within `seconds`.
    private static func finishes(within seconds: Double, _ task: Task<Void, any Error>) async -> Bool {
        await withTaskGroup(of: Bool.self) { waiting in
            waiting.addTask { _ = await task.result; return true }
            waiting.addTask {
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return false
            }
            defer { waiting.cancelAll() }
            return await waiting.next() ?? false
        }
    }

    /// Starts a graceful shutdown (SIGTERM/SIGINT): informers stop, reconciles in progress finish (at most
    /// `shutdownGrace` seconds), then the listeners close and `run` returns normally.
    public func shutDown() {
        stopRequest.continuation.yield()
    }

    /// Follows the key store: a watch on the key Secrets in a cluster, polling for a key directory.
    func keyFollowLoop() async throws {
        try await registry.store.follow(watch: configuration.watchKeySecrets, pollInterval: configuration.keyReloadInterval,
                                        logger: logger) { [registry] secrets in
            await registry.apply(secrets)
        }
    }

    /// Adds a key each `keyRenewPeriod`, counted from the newest key's time so restarts keep the schedule.
    func renewalLoop() async throws {
        let period = configuration.keyRenewPeriod
        guard period > 0 else { return try await sleepForever() }
        while !Task.isCancelled {
            let wait = await registry.secondsUntilRenewal(period: period)
            logger.info("next key renewal", metadata: ["in_seconds": "\(Int(wait))"])
            try await Task.sleep(for: .milliseconds(Int64(min(wait, 365 * 86400) * 1000)))
            if await registry.secondsUntilRenewal(period: period) > 0.5 { continue }
            do {
                try await registry.addKey(reason: "--key-renew-period elapsed")
            } catch {
                logger.error("key renewal failed; retrying in a minute", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(60))
            }
        }
    }

    /// SIGUSR1 adds a key now.
    func signalLoop() async {
        for await _ in SignalStream.signals(SIGUSR1) {
            do {
                try await registry.addKey(reason: "SIGUSR1")
            } catch {
                logger.error("adding a key on SIGUSR1 failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func sleepForever() async throws {
        while true { try await Task.sleep(for: .seconds(86400)) }
    }
}

/// Delivers a Unix signal as an async sequence (the default action is turned off while it is observed).
enum SignalStream {
    static func signals(_ number: Int32) -> AsyncStream<Void> {
        AsyncStream { continuation in
            signal(number, SIG_IGN)
            let source = SignalSource(DispatchSource.makeSignalSource(signal: number, queue: .global()))
            source.source.setEventHandler { continuation.yield() }
            source.source.resume()
            continuation.onTermination = { _ in source.source.cancel() }
        }
    }
}

/// A dispatch signal source handed to the stream's termination handler (only `cancel` is called there).
private final class SignalSource: @unchecked Sendable {
    let source: any DispatchSourceSignal
    init(_ source: any DispatchSourceSignal) { self.source = source }
}

/// A value set once and awaited by many.
final class PortLatch: Sendable {
    private let state = Mutex<(value: Int?, waiters: [CheckedContinuation<Int, Never>])>((nil, []))

    func set(_ port: Int) {
        let waiters = state.withLock { current -> [CheckedContinuation<Int, Never>] in
            current.value = port
            defer { current.waiters = [] }
            return current.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    func value() async -> Int {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { current -> Int? in
                if let value = current.value { return value }
                current.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

extension ControllerService {
    /// SIGTERM and SIGINT start a graceful shutdown (`shutDown()`) instead of killing the process; a second
    /// one calls `onRepeat` (the command exits at once).
    public func stopOnTerminationSignals(onRepeat: @escaping @Sendable () -> Void = {}) {
        let received = SignalCount()
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            let stream = SignalStream.signals(number)
            Task { [logger] in
                for await _ in stream {
                    let count = received.increment()
                    if count == 1 {
                        logger.notice("received \(name)")
                        self.shutDown()
                    } else {
                        logger.warning("received \(name) again; exiting without waiting")
                        onRepeat()
                    }
                }
            }
        }
    }
}

/// How many termination signals arrived.
private final class SignalCount: Sendable {
    private let count = Mutex(0)

    func increment() -> Int {
        count.withLock { value -> Int in
            value += 1
            return value
        }
    }
}

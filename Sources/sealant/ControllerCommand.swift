import ArgumentParser
import Controller
import Foundation
import Logging

/// `sealant controller`: the cluster-side drop-in for the Sealed Secrets controller.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run the Sealed Secrets-compatible controller (keys, HTTP API, metrics).",
        discussion: """
        In a pod (or with --kubeconfig) keys are TLS Secrets in the controller namespace and SealedSecrets are \
        reconciled into Secrets. Elsewhere only the key registry and HTTP API run, with keys in --key-dir. \
        See docs/controller.md.
        """
    )

    @Option(help: "Kubeconfig to use instead of the in-cluster service account.") var kubeconfig: String?
    @Option(help: "Kubeconfig context (default: current-context).") var context: String?
    @Option(help: "Namespace of the key Secrets (default: POD_NAMESPACE, the service account's, or default).")
    var keyNamespace: String?
    @Option(help: "Watch only these namespaces (comma-separated; default: all).") var namespaces: String?
    @Option(help: "Retries of a failing SealedSecret.") var maxUnsealRetries = 5
    @Option(help: "Concurrent reconciles.") var workers = 2
    @Flag(inversion: .prefixedNo, help: "Write SealedSecret status.") var updateStatus = true
    @Flag(help: "Don't watch Secrets (deleted Secrets are not recreated).") var skipRecreate = false

    @Option(help: "HTTP API address.") var listenAddr = ":8080"
    @Option(help: "Prometheus metrics address.") var listenMetricsAddr = ":8081"
    @Option(help: "Directory of key Secret manifests (default outside a cluster: ~/.local/share/sealant/controller-keys).")
    var keyDir: String?
    @Option(help: "Prefix of new key names.") var keyPrefix = "sealed-secrets-key"
    @Option(help: "RSA key size of new keys.") var keySize = 4096
    @Option(help: "Validity of new certificates (Go duration).") var keyTtl = "87600h"
    @Option(help: "Common name of new certificates.") var myCn = ""
    @Option(help: "Add a key this often (Go duration; 0 = never).") var keyRenewPeriod = "720h"
    @Option(help: "Add a key at start when the newest is older than this RFC1123Z time.") var keyCutoffTime: String?
    @Option(help: "CertNotBefore or SecretCreationTimestamp.") var keyOrderPriority = "CertNotBefore"
    @Option(help: "How often keys are re-read (Go duration; 0 = never).") var keyReloadInterval = "30s"
    @Option(help: "/v1/verify requests per second per client (0 = unlimited).") var rateLimit: Double = 2
    @Option(help: "/v1/verify requests allowed back to back per client.") var rateLimitBurst = 2
    @Option(help: "Largest request body in bytes.") var maxRequestBytes = 1 << 20
    @Option(help: "Idle connection timeout (Go duration).") var readTimeout = "2m"
    @Option(help: "Request handling timeout (Go duration).") var writeTimeout = "2m"
    @Option(help: "text or json.") var logFormat = "text"
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    func run() async throws {
        guard let format = LogFormat(rawValue: logFormat) else { throw CLIError("--log-format must be text or json") }
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else { throw CLIError("--log-level \(logLevel): unknown level") }
        LoggingSystem.bootstrap(format.makeHandler(level: level))
        let logger = Logger(label: "sealant.controller")

        var settings = ControllerConfiguration()
        let store: any KeyStore
        do {
            settings.listenAddress = try ListenAddress(parsing: listenAddr, flag: "listen-addr")
            settings.metricsAddress = try ListenAddress(parsing: listenMetricsAddr, flag: "listen-metrics-addr")
            settings.keyGeneration = KeyGenerationOptions(
                bits: keySize, validity: Int(try GoDuration.seconds(keyTtl, flag: "key-ttl")), commonName: myCn)
            settings.keyRenewPeriod = try GoDuration.seconds(keyRenewPeriod, flag: "key-renew-period")
            settings.keyCutoff = try keyCutoffTime.map { try GoDuration.rfc1123Z($0, flag: "key-cutoff-time") }
            guard let order = KeyOrderPriority(rawValue: keyOrderPriority) else {
                throw ControllerError.invalidOption(name: "key-order-priority", value: keyOrderPriority,
                                                    reason: "expected CertNotBefore or SecretCreationTimestamp")
            }
            settings.keyOrder = order
            settings.keyReloadInterval = try GoDuration.seconds(keyReloadInterval, flag: "key-reload-interval")
            settings.limits = APILimits(maxBodyBytes: maxRequestBytes, verifyRate: rateLimit, verifyBurst: rateLimitBurst,
                                        handlerTimeout: try GoDuration.seconds(writeTimeout, flag: "write-timeout"),
                                        idleTimeout: try GoDuration.seconds(readTimeout, flag: "read-timeout"))
        } catch {
            throw CLIError(String(describing: error))
        }
        let connection: KubernetesConnection?
        do {
            if let kubeconfig {
                connection = try KubernetesConnection.kubeconfig(path: kubeconfig, context: context)
            } else if KubernetesConnection.isInCluster() {
                connection = try KubernetesConnection.inCluster()
            } else {
                connection = nil
            }
        } catch {
            throw CLIError(String(describing: error))
        }
        var client: KubernetesClient?
        var tasks: [@Sendable () async throws -> Void] = []
        let service: ControllerService
        do {
            if let connection {
                let kube = try KubernetesClient(connection: connection)
                client = kube
                let namespace = keyNamespace ?? ProcessInfo.processInfo.environment["POD_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 }
                    ?? connection.namespace ?? "default"
                if let keyDir {
                    store = LocalKeyDirectory(path: keyDir, namespace: namespace, prefix: keyPrefix)
                } else {
                    store = KubernetesKeyStore(client: kube, namespace: namespace, prefix: keyPrefix)
                }
                logger.info("using the Kubernetes API", metadata: ["server": "\(connection.server)", "source": "\(connection.source)",
                                                                   "keys": "\(store.location)"])
            } else {
                store = LocalKeyDirectory(path: keyDir ?? LocalKeyDirectory.defaultPath(), prefix: keyPrefix)
                logger.info("no cluster configured: serving the key registry and HTTP API only", metadata: ["keys": "\(store.location)"])
            }
            service = ControllerService(configuration: settings, store: store, logger: logger)
            if let client {
                var options = ReconcilerOptions()
                options.namespaces = namespaces.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
                options.maxUnsealRetries = maxUnsealRetries
                options.updateStatus = updateStatus
                options.skipRecreate = skipRecreate
                options.workers = workers
                let reconciler = Reconciler(client: client, registry: service.registry, metrics: service.metrics, options: options, logger: logger)
                tasks.append { await reconciler.run() }
            }
        } catch {
            throw CLIError(String(describing: error))
        }
        do {
            try await service.run(extraTasks: tasks)
        } catch is CancellationError {
            await client?.shutdown()
            return
        } catch {
            await client?.shutdown()
            throw CLIError(String(describing: error))
        }
    }
}

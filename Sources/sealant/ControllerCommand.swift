import ArgumentParser
import Controller
import Foundation
import Logging
import Sealing

/// `sealant controller`: the cluster-side drop-in for the Sealed Secrets controller.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run the Sealed Secrets-compatible controller (keys, HTTP API, metrics).",
        discussion: """
        In a pod (or with --kubeconfig) keys are TLS Secrets in the controller namespace and SealedSecrets are \
        reconciled into Secrets. Elsewhere only the key registry and HTTP API run, with keys in --key-dir. \
        See docs/controller.md.
        """,
        version: SealantVersion.string
    )

    @Option(help: "Kubeconfig to use instead of the in-cluster service account.") var kubeconfig: String?
    @Option(help: "Kubeconfig context (default: current-context).") var context: String?
    @Option(help: "Namespace of the key Secrets (default: POD_NAMESPACE, the service account's, or default).")
    var keyNamespace: String?
    @Option(help: "Watch only these namespaces (comma-separated; default: all).") var namespaces: String?
    @Flag(inversion: .prefixedNo, help: "Watch SealedSecrets in all namespaces (off: only the controller namespace and --additional-namespaces).")
    var allNamespaces = true
    @Option(help: "Also watch these namespaces besides the controller namespace (comma-separated).") var additionalNamespaces: String?
    @Option(help: "Only SealedSecrets (and Secrets) matching this label selector.") var labelSelector: String?
    @Option(help: "Retries of a failing SealedSecret.") var maxUnsealRetries = 5
    @Option(help: "Concurrent reconciles.") var workers = 2
    @Flag(inversion: .prefixedNo, help: "Write SealedSecret status.") var updateStatus = true
    @Flag(inversion: .prefixedNo, help: "Don't watch Secrets (deleted Secrets are not recreated).") var skipRecreate = false
    @Flag(inversion: .prefixedNo, help: "Delete the Secret of a deleted SealedSecret instead of leaving it to garbage collection.")
    var oldGcBehavior = false
    @Flag(inversion: .prefixedNo, help: "Unseal SealedSecrets in the deprecated whole-object spec.data form.")
    var acceptDeprecatedV1Data = true
    @Flag(inversion: .prefixedNo, help: "Re-sync owned Secrets that are edited (Secret changes enqueue their SealedSecret; beta upstream).")
    var watchForSecrets = false
    @Flag(inversion: .prefixedNo, help: "Watch the key Secrets (off: re-read them every --key-reload-interval).")
    var watchKeySecrets = true
    @Option(help: "Labels of new key Secrets (k=v,...).") var privatekeyLabels = ""
    @Option(help: "Annotations of new key Secrets (k=v,...).") var privatekeyAnnotations = ""
    @Option(help: "Seconds a graceful shutdown (SIGTERM/SIGINT) waits for reconciles in progress.") var shutdownGracePeriod = "10s"

    @Option(help: "HTTP API address.") var listenAddr = ":8080"
    @Option(help: "Prometheus metrics address.") var listenMetricsAddr = ":8081"
    @Option(help: "Directory of key Secret manifests (default outside a cluster: ~/.local/share/sealant/controller-keys).")
    var keyDir: String?
    @Option(help: "Prefix of new key names.") var keyPrefix = "sealed-secrets-key"
    @Option(help: "RSA key size of new keys.") var keySize = 4096
    @Option(help: "Validity of new certificates (Go duration).") var keyTtl = "87600h"
    @Option(help: "Common name of new certificates.") var myCn = ""
    @Option(help: "Add a key this often (Go duration; 0 = never).") var keyRenewPeriod = "720h"
    @Option(help: .hidden) var rotatePeriod: String?
    @Option(help: "Add a key at start when the newest is older than this RFC1123Z time.") var keyCutoffTime: String?
    @Option(help: "CertNotBefore or SecretCreationTimestamp.") var keyOrderPriority = "CertNotBefore"
    @Option(help: "How often keys are re-read (Go duration; 0 = never).") var keyReloadInterval = "30s"
    @Option(help: "/v1/verify requests per second per client (0 = unlimited).") var rateLimit: Double = 2
    @Option(help: "/v1/verify requests allowed back to back per client.") var rateLimitBurst = 2
    @Option(help: "Kubernetes API requests per second (client-side token bucket, as client-go; 0 = 5, negative = unlimited).")
    var kubeclientQps: Double = 5
    @Option(help: "Kubernetes API requests allowed back to back (token bucket size).") var kubeclientBurst = 10
    @Option(help: "Largest request body in bytes.") var maxRequestBytes = 1 << 20
    @Option(help: "Idle connection timeout (Go duration).") var readTimeout = "2m"
    @Option(help: "Request handling timeout (Go duration).") var writeTimeout = "2m"
    @Option(help: "text or json.") var logFormat = "text"
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"
    @Flag(inversion: .prefixedNo, help: "Informational log lines to standard output, warnings and errors to standard error (off: all to standard error).")
    var logInfoStdout = true

    func run() async throws {
        guard let format = LogFormat(rawValue: logFormat) else { throw CLIError("--log-format must be text or json") }
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else { throw CLIError("--log-level \(logLevel): unknown level") }
        LoggingSystem.bootstrap(format.makeHandler(level: level, infoToStandardOutput: logInfoStdout))
        let logger = Logger(label: "sealant.controller")

        var settings = ControllerConfiguration()
        var keyMetadata = KeySecretMetadata()
        var selector: LabelSelector?
        let store: any KeyStore
        do {
            settings.listenAddress = try ListenAddress(parsing: listenAddr, flag: "listen-addr")
            settings.metricsAddress = try ListenAddress(parsing: listenMetricsAddr, flag: "listen-metrics-addr")
            settings.keyGeneration = KeyGenerationOptions(
                bits: keySize, validity: Int(try GoDuration.seconds(keyTtl, flag: "key-ttl")), commonName: myCn)
            settings.keyRenewPeriod = try rotatePeriod.map { try GoDuration.seconds($0, flag: "rotate-period") }
                ?? GoDuration.seconds(keyRenewPeriod, flag: "key-renew-period")
            settings.keyCutoff = try keyCutoffTime.map { try GoDuration.rfc1123Z($0, flag: "key-cutoff-time") }
            guard let order = KeyOrderPriority(rawValue: keyOrderPriority) else {
                throw ControllerError.invalidOption(name: "key-order-priority", value: keyOrderPriority,
                                                    reason: "expected CertNotBefore or SecretCreationTimestamp")
            }
            settings.keyOrder = order
            settings.keyReloadInterval = try GoDuration.seconds(keyReloadInterval, flag: "key-reload-interval")
            settings.watchKeySecrets = watchKeySecrets
            settings.shutdownGrace = try GoDuration.seconds(shutdownGracePeriod, flag: "shutdown-grace-period")
            try ControllerKeySecret.validatePrefix(keyPrefix)
            guard maxUnsealRetries >= 0 else {
                throw ControllerError.invalidOption(name: "max-unseal-retries", value: "\(maxUnsealRetries)", reason: "must be 0 or more")
            }
            guard workers >= 1 else { throw ControllerError.invalidOption(name: "workers", value: "\(workers)", reason: "must be 1 or more") }
            guard kubeclientQps.isFinite else {
                throw ControllerError.invalidOption(name: "kubeclient-qps", value: "\(kubeclientQps)", reason: "must be a finite number")
            }
            guard kubeclientBurst >= 1 || kubeclientQps < 0 else {
                throw ControllerError.invalidOption(name: "kubeclient-burst", value: "\(kubeclientBurst)", reason: "must be 1 or more")
            }
            keyMetadata = KeySecretMetadata(labels: try KeySecretMetadata.pairs(privatekeyLabels, flag: "privatekey-labels"),
                                            annotations: try KeySecretMetadata.pairs(privatekeyAnnotations, flag: "privatekey-annotations"))
            selector = try labelSelector.flatMap { $0.isEmpty ? nil : try LabelSelector(parsing: $0) }
            if namespaces != nil && (additionalNamespaces != nil || !allNamespaces) {
                throw ControllerError.invalidOption(name: "namespaces", value: namespaces ?? "",
                                                    reason: "use either --namespaces or --all-namespaces=false/--additional-namespaces")
            }
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
        var controllerNamespace = "default"
        var tasks: [@Sendable () async throws -> Void] = []
        var stopHooks: [@Sendable () async -> Void] = []
        let service: ControllerService
        do {
            if let connection {
                // client-go's rule: QPS 0 means its default (5), a negative QPS turns the limiter off.
                let qps = kubeclientQps == 0 ? 5 : kubeclientQps
                let kube = try KubernetesClient(connection: connection,
                                                rateLimiter: qps > 0 ? TokenBucket(rate: qps, burst: kubeclientBurst) : nil)
                client = kube
                let namespace = keyNamespace ?? ProcessInfo.processInfo.environment["POD_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 }
                    ?? connection.namespace ?? "default"
                controllerNamespace = namespace
                if let keyDir {
                    store = LocalKeyDirectory(path: keyDir, namespace: namespace, prefix: keyPrefix, metadata: keyMetadata)
                } else {
                    store = KubernetesKeyStore(client: kube, namespace: namespace, prefix: keyPrefix, metadata: keyMetadata)
                }
                logger.info("using the Kubernetes API", metadata: ["server": "\(connection.server)", "source": "\(connection.source)",
                                                                   "keys": "\(store.location)"])
            } else {
                store = LocalKeyDirectory(path: keyDir ?? LocalKeyDirectory.defaultPath(), prefix: keyPrefix, metadata: keyMetadata)
                logger.info("no cluster configured: serving the key registry and HTTP API only", metadata: ["keys": "\(store.location)"])
            }
            service = ControllerService(configuration: settings, store: store, logger: logger)
            if let client {
                var options = ReconcilerOptions()
                options.namespaces = ReconcilerOptions.watchedNamespaces(namespaces: namespaces, allNamespaces: allNamespaces,
                                                           additional: additionalNamespaces, controllerNamespace: controllerNamespace)
                options.labelSelector = selector?.description
                options.oldGCBehavior = oldGcBehavior
                options.acceptDeprecatedV1Data = acceptDeprecatedV1Data
                options.maxUnsealRetries = maxUnsealRetries
                options.updateStatus = updateStatus
                options.skipRecreate = skipRecreate
                options.watchForSecrets = watchForSecrets
                options.workers = workers
                let reconciler = Reconciler(client: client, registry: service.registry, metrics: service.metrics, options: options, logger: logger)
                tasks.append { await reconciler.run() }
                stopHooks.append { await reconciler.stop() }
            }
        } catch {
            throw CLIError(String(describing: error))
        }
        do {
            service.stopOnTerminationSignals(onRepeat: { Foundation.exit(1) })
            try await service.run(extraTasks: tasks, stopHooks: stopHooks)
            await client?.shutdown()
        } catch is CancellationError {
            await client?.shutdown()
            return
        } catch {
            await client?.shutdown()
            throw CLIError(String(describing: error))
        }
    }

    /// The controller's arguments as ArgumentParser takes them: Go-style booleans rewritten, then every flag not
    /// on the command line taken from `SEALED_SECRETS_<FLAG>` when that is set (the command line wins).
    static func normalized(_ arguments: [String], environment: [String: String]) throws -> [String] {
        guard arguments.first == "controller" else { return arguments }
        let explicit = goBooleansRewritten(arguments)
        return explicit + (try environmentArguments(given: Array(explicit.dropFirst()), environment: environment))
    }

    /// Prefix of the environment variables that set flags, as upstream's: `--key-renew-period` is
    /// `SEALED_SECRETS_KEY_RENEW_PERIOD`.
    static let environmentPrefix = "SEALED_SECRETS_"

    static func environmentVariable(for flag: String) -> String {
        environmentPrefix + flag.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// `--flag=value` arguments for the flags set in `environment` but absent from `given`. The flags are read
    /// from ArgumentParser's own description of this command, so every flag is covered without listing them.
    /// A value the flag does not accept is an error naming the variable.
    static func environmentArguments(given: [String], environment: [String: String]) throws -> [String] {
        let variables = environment.filter { $0.key.hasPrefix(environmentPrefix) && !$0.value.isEmpty }
        guard !variables.isEmpty else { return [] }
        func isGiven(_ name: String) -> Bool {
            given.contains { $0 == "--" + name || $0.hasPrefix("--" + name + "=") }
        }
        var result: [String] = []
        for argument in commandLineFlags() {
            let variable = environmentVariable(for: argument.name)
            guard let value = variables[variable], !isGiven(argument.name), !(argument.inverse.map(isGiven) ?? false) else { continue }
            if argument.isFlag {
                // Go's strconv.ParseBool spellings.
                switch value {
                case "1", "t", "T", "true", "TRUE", "True": result.append("--" + argument.name)
                case "0", "f", "F", "false", "FALSE", "False":
                    if let inverse = argument.inverse { result.append("--" + inverse) }
                default: throw CLIError("\(variable)=\(value): expected true or false")
                }
            } else {
                let spelled = "--\(argument.name)=\(value)"
                do {
                    _ = try ControllerCommand.parse([spelled])
                } catch {
                    let reason = ControllerCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid value"
                    throw CLIError("\(variable)=\(value): \(reason)")
                }
                result.append(spelled)
            }
        }
        return result
    }

    /// The long flags of this command from ArgumentParser's description (`--experimental-dump-help`): options,
    /// and boolean flags with their `--no-` inverse; not --help and --version.
    static func commandLineFlags() -> [(name: String, isFlag: Bool, inverse: String?)] {
        guard let root = (try? ManifestReader.jsonDocuments(Array(ControllerCommand._dumpHelp().utf8), source: "help"))?.first?.object,
              case .array(let arguments)? = root["command"]?.object?["arguments"] else { return [] }
        var names: [(name: String, isFlag: Bool)] = []
        for argument in arguments.compactMap(\.object) {
            guard let kind = argument["kind"]?.string, kind == "option" || kind == "flag",
                  case .array(let spellings)? = argument["names"] else { continue }
            for spelling in spellings.compactMap(\.object) where spelling["kind"]?.string == "long" {
                if let name = spelling["name"]?.string, name != "help", name != "version" { names.append((name, kind == "flag")) }
            }
        }
        let all = Set(names.map(\.name))
        return names.filter { !($0.isFlag && $0.name.hasPrefix("no-") && all.contains(String($0.name.dropFirst(3)))) }.map { entry in
            (entry.name, entry.isFlag, entry.isFlag && all.contains("no-" + entry.name) ? "no-" + entry.name : nil)
        }
    }

    /// Rewrites `--flag=true` to `--flag` and `--flag=false` to `--no-flag` for the boolean flags: upstream (Go)
    /// spells them that way, ArgumentParser wants `--flag` / `--no-flag`.
    static func goBooleansRewritten(_ arguments: [String]) -> [String] {
        let booleans = Set(commandLineFlags().filter { $0.inverse != nil }.map(\.name))
        return arguments.map { argument in
            guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return argument }
            let name = String(argument[argument.index(argument.startIndex, offsetBy: 2)..<equals])
            guard booleans.contains(name) else { return argument }
            switch argument[argument.index(after: equals)...].lowercased() {
            case "true", "1", "t": return "--" + name
            case "false", "0", "f": return "--no-" + name
            default: return argument
            }
        }
    }
}

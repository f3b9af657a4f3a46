import Foundation
import Sealing
import Testing
@testable import Controller

/// The real `sealant controller` binary: graceful shutdown on SIGTERM/SIGINT, and flag errors.
@Suite("sealant controller process", .serialized)
struct LifecycleTests {
    /// The `sealant` executable next to the test bundle (built by `swift build --build-tests` / `swift test`).
    static let binary: String? = {
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("sealant").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }()

    /// A running controller process with its stderr and stdout (logs) in files.
    final class ControllerProcess {
        let process = Process()
        let logFile: String
        let outputFile: String

        init(_ arguments: [String], directory: String, environment extra: [String: String] = [:]) throws {
            guard let binary = LifecycleTests.binary else { throw TestFailure("the sealant binary is not built next to the tests") }
            logFile = directory + "/controller.log"
            outputFile = directory + "/controller.out"
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
            _ = FileManager.default.createFile(atPath: outputFile, contents: nil)
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["controller"] + arguments
            var environment = ProcessInfo.processInfo.environment
            environment["KUBERNETES_SERVICE_HOST"] = nil
            environment["HOME"] = directory
            for key in environment.keys where key.hasPrefix("SEALED_SECRETS_") { environment[key] = nil }
            environment.merge(extra) { $1 }
            process.environment = environment
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
            try process.run()
        }

        /// Standard error, then standard output (`--log-info-stdout` splits the log between them).
        var log: String { standardError + standardOutput }
        var standardError: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
        var standardOutput: String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }

        /// The port logged by "HTTP API listening".
        func apiPort() async -> Int? {
            var port: Int?
            _ = await eventually {
                for line in log.split(separator: "\n") where line.contains("HTTP API listening") {
                    if let match = line.firstMatch(of: /"port":"?(\d+)/) { port = Int(match.1) }
                }
                return port != nil || !process.isRunning
            }
            return port
        }

        func waitForExit(seconds: Double = 30) async -> Int32? {
            guard await eventually(seconds, { !process.isRunning }) else {
                process.terminate()
                return nil
            }
            return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
        }
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` (a plain connect; HTTP clients retry refusals).
    static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func keyDirectory(_ root: String) throws -> String {
        let keys = root + "/keys"
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        try writeKeySecret(try Fixtures.upstreamKeyPair(), name: "upstream", into: keys)
        return keys
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalStopsItCleanlyWithoutACluster(_ signal: Int32) async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let controller = try ControllerProcess(
            ["--key-dir", try Self.keyDirectory(root), "--listen-addr", "127.0.0.1:0", "--listen-metrics-addr", "127.0.0.1:0",
             "--log-format", "json", "--key-renew-period", "0"], directory: root)
        let port = try #require(await controller.apiPort(), "no listening line in: \(controller.log)")
        #expect(try await send("GET", "http://127.0.0.1:\(port)/healthz").status == 200)
        #expect(Self.accepts(port: port))

        kill(controller.process.processIdentifier, signal)
        let status = await controller.waitForExit()
        #expect(status == 0, "exit status \(String(describing: status)); log: \(controller.log.suffix(3000))")
        #expect(controller.log.contains("closing the HTTP listeners"))
        // It no longer accepts connections.
        #expect(!Self.accepts(port: port))
    }

    /// A kubeconfig file for the stand-in API server.
    static func kubeconfig(for server: StandInAPIServer, in root: String) throws -> String {
        let path = root + "/kubeconfig"
        try """
        apiVersion: v1
        kind: Config
        current-context: stand-in
        clusters:
        - name: stand-in
          cluster:
            server: \(server.url)
        contexts:
        - name: stand-in
          context:
            cluster: stand-in
            namespace: kube-system
        users: []
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func sigtermWhenIdleInAClusterWithWatchedKeys() async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try await StandInAPIServer.start()
        try await server.cluster.create("secrets", try KubernetesKeyStoreTests.keySecret(try Fixtures.upstreamKeyPair(), name: "byo", label: "active"))
        let controller = try ControllerProcess(
            ["--kubeconfig", try Self.kubeconfig(for: server, in: root), "--listen-addr", "127.0.0.1:0",
             "--listen-metrics-addr", "127.0.0.1:0", "--log-format", "json", "--key-renew-period", "0"], directory: root)
        _ = try #require(await controller.apiPort(), "no listening line in: \(controller.log)")
        // SealedSecrets, Secrets and the key Secrets are watched.
        #expect(await eventually { await server.cluster.openWatches == 3 })
        try await server.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("app", "db", items: ["password": "s3"]))
        #expect(await eventually { await server.cluster.object("secrets", "app", "db") != nil })
        kill(controller.process.processIdentifier, SIGTERM)
        let status = await controller.waitForExit()
        #expect(status == 0, "exit status \(String(describing: status)); log: \(controller.log.suffix(3000))")
        await server.stop()
    }

    @Test func aSecondSignalExitsWithoutWaiting() async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try await StandInAPIServer.start()
        let controller = try ControllerProcess(
            ["--kubeconfig", try Self.kubeconfig(for: server, in: root), "--key-dir", try Self.keyDirectory(root),
             "--listen-addr", "127.0.0.1:0", "--listen-metrics-addr", "127.0.0.1:0", "--log-format", "json",
             "--key-renew-period", "0", "--shutdown-grace-period", "60s"], directory: root)
        _ = try #require(await controller.apiPort(), "no listening line in: \(controller.log)")
        #expect(await eventually { await server.cluster.openWatches == 2 })
        await server.cluster.setDelay(.seconds(20))
        try await server.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("app", "slow", items: ["k": "v"]))
        #expect(await eventually { await server.cluster.requestCount("POST /api/v1/namespaces/app/secrets") == 1 })
        kill(controller.process.processIdentifier, SIGTERM)
        #expect(await eventually { controller.log.contains("shutting down") })
        kill(controller.process.processIdentifier, SIGINT)
        #expect(await controller.waitForExit(seconds: 10) == 1, "the reconcile in progress would hold it for 20 s")
        await server.cluster.setDelay(.zero)
        await server.stop()
    }

    @Test func sigtermLetsTheReconcileInProgressFinish() async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try await StandInAPIServer.start()
        let kubeconfig = try Self.kubeconfig(for: server, in: root)
        let controller = try ControllerProcess(
            ["--kubeconfig", kubeconfig, "--key-dir", try Self.keyDirectory(root), "--listen-addr", "127.0.0.1:0",
             "--listen-metrics-addr", "127.0.0.1:0", "--log-format", "json", "--key-renew-period", "0"], directory: root)
        _ = try #require(await controller.apiPort(), "no listening line in: \(controller.log)")
        #expect(await eventually { await server.cluster.openWatches == 2 })

        // Every API answer now takes 0.8 s: the reconcile is still in progress when SIGTERM arrives.
        await server.cluster.setDelay(.milliseconds(800))
        try await server.cluster.create("sealedsecrets", try ReconcilerHarness.sealed("app", "db", items: ["password": "s3"]))
        #expect(await eventually { await server.cluster.requestCount("POST /api/v1/namespaces/app/secrets") == 1 })
        kill(controller.process.processIdentifier, SIGTERM)
        let status = await controller.waitForExit()
        #expect(status == 0, "exit status \(String(describing: status)); log: \(controller.log.suffix(3000))")
        #expect(ReconcilerHarness.data(await server.cluster.object("secrets", "app", "db")) == ["password": "s3"])
        #expect(ReconcilerHarness.condition(await server.cluster.object("sealedsecrets", "app", "db"))?["status"]?.string == "True")
        #expect(!controller.log.contains("reconciles still running after the grace period"))
        await server.stop()
    }

    @Test(arguments: [
        (["--label-selector", "a b"], "label-selector"),
        (["--key-prefix", "Not_Valid"], "key-prefix"),
        (["--privatekey-labels", "novalue"], "privatekey-labels"),
        (["--privatekey-annotations", "=x"], "privatekey-annotations"),
        (["--max-unseal-retries=-1"], "max-unseal-retries"),
        (["--max-unseal-retries", "-1"], "max-unseal-retries"),
        (["--no-such-flag"], "no-such-flag"),
        (["--key-renew-period", "often"], "key-renew-period"),
        (["--update-status=maybe"], "update-status"),
        // Go-style booleans are accepted: the error is about the next flag.
        (["--update-status=false", "--old-gc-behavior=true", "--watch-key-secrets=false", "--watch-for-secrets=true", "--log-info-stdout=false", "--key-prefix", "BAD"], "key-prefix"),
        (["--namespaces", "a", "--additional-namespaces", "b"], "namespaces"),
    ])
    func invalidFlagsAreOneLineErrorsWithExitStatus2(_ arguments: [String], _ flag: String) async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let controller = try ControllerProcess(["--key-dir", root + "/keys", "--listen-addr", "127.0.0.1:0",
                                                "--listen-metrics-addr", "127.0.0.1:0"] + arguments, directory: root)
        #expect(await controller.waitForExit() == 2)
        let lines = controller.log.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains(flag) == true, "\(lines)")
        #expect(!FileManager.default.fileExists(atPath: root + "/keys"), "nothing written")
    }

    /// Every flag can be set by `SEALED_SECRETS_<FLAG>`; the command line wins; a bad value names the variable.
    @Test func flagsFromTheEnvironment() async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = ["--key-dir", root + "/keys", "--listen-addr", "127.0.0.1:0", "--listen-metrics-addr", "127.0.0.1:0"]

        // The variable applies when the flag is absent (here a prefix the controller rejects) ...
        let fromEnvironment = try ControllerProcess(base, directory: root, environment: ["SEALED_SECRETS_KEY_PREFIX": "BAD"])
        #expect(await fromEnvironment.waitForExit() == 2)
        #expect(fromEnvironment.log.split(separator: "\n").count == 1)
        #expect(fromEnvironment.log.contains("key-prefix"), "\(fromEnvironment.log)")

        // ... the command line wins over it (this one starts: the log is JSON because SEALED_SECRETS_LOG_FORMAT says so,
        // and a boolean variable in Go's spelling is accepted) ...
        let flagWins = try ControllerProcess(base + ["--key-prefix", "good", "--key-renew-period", "0"], directory: root,
                                             environment: ["SEALED_SECRETS_KEY_PREFIX": "BAD", "SEALED_SECRETS_LOG_FORMAT": "json",
                                                           "SEALED_SECRETS_UPDATE_STATUS": "False"])
        _ = try #require(await flagWins.apiPort(), "no JSON listening line in: \(flagWins.log)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/keys").contains { $0.hasPrefix("good") },
                "the first key (written before the API listens) is named after --key-prefix")
        kill(flagWins.process.processIdentifier, SIGTERM)
        #expect(await flagWins.waitForExit() == 0)

        // ... and a value the flag cannot take is one line naming the variable, exit status 2.
        for (variable, value) in [("SEALED_SECRETS_WORKERS", "many"), ("SEALED_SECRETS_SKIP_RECREATE", "maybe"),
                                  ("SEALED_SECRETS_KUBECLIENT_QPS", "fast")] {
            let directory = root + "/" + variable
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let invalid = try ControllerProcess(base, directory: directory, environment: [variable: value])
            #expect(await invalid.waitForExit() == 2)
            let lines = invalid.log.split(separator: "\n")
            #expect(lines.count == 1 && lines.first?.contains(variable) == true, "\(invalid.log)")
        }
    }

    /// `--log-info-stdout` (upstream's default true): informational lines on standard output, warnings and errors on
    /// standard error; false: everything on standard error.
    @Test func logInfoStdoutSplitsTheLogByLevel() async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = ["--key-dir", root + "/keys", "--listen-addr", "127.0.0.1:0", "--listen-metrics-addr", "127.0.0.1:0",
                    "--key-renew-period", "0", "--log-format", "json"]
        for (arguments, environment, toStandardOutput) in [([String](), [String: String](), true), (["--log-info-stdout=false"], [:], false),
                                                           ([], ["SEALED_SECRETS_LOG_INFO_STDOUT": "false"], false)] {
            let controller = try ControllerProcess(base + arguments, directory: root, environment: environment)
            _ = try #require(await controller.apiPort(), "no listening line in: \(controller.log)")
            let listening = { (text: String) in text.contains("HTTP API listening") }
            #expect(listening(controller.standardOutput) == toStandardOutput, "\(arguments) \(environment)")
            #expect(listening(controller.standardError) == !toStandardOutput, "\(arguments) \(environment)")
            kill(controller.process.processIdentifier, SIGTERM)
            #expect(await controller.waitForExit() == 0)
        }
    }

    @Test func versionPrintsTheVersionAndExits() async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let controller = try ControllerProcess(["--version"], directory: root)
        #expect(await controller.waitForExit() == 0)
        #expect(controller.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).first?.isNumber == true, "\(controller.log)")
        #expect(!FileManager.default.fileExists(atPath: root + "/.local"), "no key directory created")
    }
}

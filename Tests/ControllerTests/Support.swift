import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Sealing
import Testing
@testable import Controller

/// Paths and helpers shared by the controller tests.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func sealedSecret(_ name: String) throws -> SealedSecret {
        let documents = try ManifestReader.documents(in: try text(name), source: name)
        guard let first = documents.first else { throw TestFailure("no document in \(name)") }
        return try SealedSecret(manifest: first, source: name)
    }

    /// The upstream fixture key pair.
    static func upstreamKeyPair() throws -> KeyPair {
        let key = try RSAKey.privateKey(pem: Array(try text("key.pem").utf8))
        guard let certificate = try Certificate.all(pem: Array(try text("cert.pem").utf8)).first else {
            throw TestFailure("no certificate in cert.pem")
        }
        return KeyPair(privateKey: key, certificate: certificate)
    }

    static let scopes = ["sealedsecret-strict.yaml", "sealedsecret-namespace-wide.yaml", "sealedsecret-cluster-wide.yaml"]
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "sealant-controller-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Writes a key pair as a controller key Secret manifest into `directory`.
func writeKeySecret(_ pair: KeyPair, name: String, into directory: String, label: String = "active",
                    created: Date? = nil) throws {
    var secret = try pair.controllerSecret(name: name, namespace: "kube-system")
    secret.metadata.labels = [ControllerKeySecret.activeLabel: label]
    if let created { secret.metadata.fields["creationTimestamp"] = .string(GoDuration.rfc3339(created)) }
    try ManifestWriter.yaml(secret.manifest()).write(toFile: directory + "/\(name).yaml", atomically: true, encoding: .utf8)
}

let quietLogger: Logger = {
    var logger = Logger(label: "controller-tests")
    logger.logLevel = .critical
    return logger
}()

/// A controller serving on 127.0.0.1 with free ports, stopped by `stop()`.
struct RunningController {
    let service: ControllerService
    let task: Task<Void, Error>
    let apiPort: Int
    let metricsPort: Int

    var base: String { "http://127.0.0.1:\(apiPort)" }

    static func start(keyDirectory: String, configure: (inout ControllerConfiguration) -> Void = { _ in }) async throws -> RunningController {
        var configuration = ControllerConfiguration()
        configuration.listenAddress = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.metricsAddress = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.keyGeneration = KeyGenerationOptions(bits: 2048)
        configuration.keyReloadInterval = 0
        configure(&configuration)
        let service = ControllerService(configuration: configuration, store: LocalKeyDirectory(path: keyDirectory), logger: quietLogger)
        let task = Task { try await service.run() }
        let apiPort = await service.boundAPIPort()
        let metricsPort = await service.boundMetricsPort()
        return RunningController(service: service, task: task, apiPort: apiPort, metricsPort: metricsPort)
    }

    /// A graceful shutdown (cancelling Hummingbird with keep-alive connections open can trip a NIO assertion).
    func stop() async {
        service.shutDown()
        _ = await task.result
    }
}

/// A response as the tests look at it.
struct HTTPResult {
    let status: Int
    let headers: [(String, String)]
    let body: String

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

/// Sends one request with AsyncHTTPClient (a real HTTP client over loopback).
func send(_ method: String, _ url: String, body: String? = nil, headers: [(String, String)] = []) async throws -> HTTPResult {
    var request = HTTPClientRequest(url: url)
    request.method = .init(rawValue: method)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let buffer = try await response.body.collect(upTo: 8 << 20)
    return HTTPResult(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                      body: String(buffer: buffer))
}

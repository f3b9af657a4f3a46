import AsyncHTTPClient
import Foundation
import Sealing
import Testing
@testable import Controller

/// The HTTP API, exercised with real HTTP clients (AsyncHTTPClient, and Sealing's `ControllerClient` that
/// `sealant seal/validate/reencrypt --controller` use) against a controller bound to 127.0.0.1.
@Suite("HTTP API", .serialized)
struct HTTPAPITests {
    /// A key directory holding the upstream fixture key.
    static func upstreamKeyDirectory() throws -> String {
        let directory = try temporaryDirectory()
        try writeKeySecret(try Fixtures.upstreamKeyPair(), name: "upstream", into: directory)
        return directory
    }

    @Test func healthCertificateAndVerifyOfUpstreamFixtures() async throws {
        let directory = try Self.upstreamKeyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let controller = try await RunningController.start(keyDirectory: directory) { $0.limits.verifyRate = 0 }

        let health = try await send("GET", controller.base + "/healthz")
        #expect(health.status == 200)
        #expect(health.body == "ok\n")

        let cert = try await send("GET", controller.base + "/v1/cert.pem")
        #expect(cert.status == 200)
        #expect(cert.header("Content-Type") == "application/x-pem-file")
        let served = try #require(try Certificate.all(pem: Array(cert.body.utf8)).first)
        #expect(try served.publicKey().hasSamePublicKey(as: try Fixtures.upstreamKeyPair().privateKey))

        for name in Fixtures.scopes {
            let verdict = try await send("POST", controller.base + "/v1/verify", body: try Fixtures.text(name))
            #expect(verdict.status == 200, "\(name): \(verdict.body)")
        }
        // JSON bodies, as kubeseal and ControllerClient send them.
        let json = ManifestWriter.compactJSON(try Fixtures.sealedSecret("sealedsecret-strict.yaml").manifest())
        #expect(try await send("POST", controller.base + "/v1/verify", body: json).status == 200)
        await controller.stop()
    }

    @Test func tamperedRenamedAndGarbageBodies() async throws {
        let directory = try Self.upstreamKeyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let controller = try await RunningController.start(keyDirectory: directory) { $0.limits.verifyRate = 0 }

        var tampered = try Fixtures.sealedSecret("sealedsecret-strict.yaml")
        let item = try #require(tampered.encryptedData["password"])
        var bytes = [UInt8](try #require(Data(base64Encoded: item)))
        bytes[bytes.count - 1] ^= 0x01
        tampered.encryptedData["password"] = Data(bytes).base64EncodedString()
        let tamperedResult = try await send("POST", controller.base + "/v1/verify", body: ManifestWriter.compactJSON(tampered.manifest()))
        #expect(tamperedResult.status == 409)
        #expect(tamperedResult.body.contains("password"), "the reason names the item: \(tamperedResult.body)")

        var renamed = try Fixtures.sealedSecret("sealedsecret-strict.yaml")
        renamed.metadata.name = "other-name"
        let renamedResult = try await send("POST", controller.base + "/v1/verify", body: ManifestWriter.compactJSON(renamed.manifest()))
        #expect(renamedResult.status == 409)
        #expect(renamedResult.body.contains("no key could decrypt"), "\(renamedResult.body)")

        let garbage = try await send("POST", controller.base + "/v1/verify", body: "{ this is not json")
        #expect(garbage.status == 400)
        #expect(!garbage.body.isEmpty)
        let notSealed = try await send("POST", controller.base + "/v1/verify", body: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n")
        #expect(notSealed.status == 400)
        #expect(notSealed.body.contains("SealedSecret"))
        let twoDocuments = try Fixtures.text("sealedsecret-strict.yaml") + "\n" + (try Fixtures.text("sealedsecret-cluster-wide.yaml"))
        let multi = try await send("POST", controller.base + "/v1/verify", body: twoDocuments)
        #expect(multi.status == 400)
        #expect(multi.body.contains("2 documents"))
        let empty = try await send("POST", controller.base + "/v1/verify", body: "")
        #expect(empty.status == 400)
        await controller.stop()
    }

    @Test func bodyLimitAndRateLimit() async throws {
        let directory = try Self.upstreamKeyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let controller = try await RunningController.start(keyDirectory: directory) {
            $0.limits.maxBodyBytes = 64 * 1024
            $0.limits.verifyRate = 0.5
            $0.limits.verifyBurst = 2
        }
        let large = String(repeating: "a", count: 100 * 1024)
        let tooLarge = try await send("POST", controller.base + "/v1/rotate", body: large)
        #expect(tooLarge.status == 413)

        let body = try Fixtures.text("sealedsecret-cluster-wide.yaml")
        let client = [("X-Forwarded-For", "10.0.0.7")]
        #expect(try await send("POST", controller.base + "/v1/verify", body: body, headers: client).status == 200)
        #expect(try await send("POST", controller.base + "/v1/verify", body: body, headers: client).status == 200)
        let limited = try await send("POST", controller.base + "/v1/verify", body: body, headers: client)
        #expect(limited.status == 429)
        #expect(limited.header("Retry-After") != nil)
        // Another client has its own allowance; rotate is not limited.
        #expect(try await send("POST", controller.base + "/v1/verify", body: body, headers: [("X-Forwarded-For", "10.0.0.8")]).status == 200)
        #expect(try await send("POST", controller.base + "/v1/rotate", body: body, headers: client).status == 200)
        await controller.stop()
    }

    @Test func rotateReSealsWithTheNewestKeyAndKeepsTheTemplate() async throws {
        let directory = try Self.upstreamKeyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let controller = try await RunningController.start(keyDirectory: directory) { $0.limits.verifyRate = 0 }
        let newKey = try await controller.service.registry.addKey(reason: "test")
        let upstream = try Fixtures.upstreamKeyPair()

        for name in Fixtures.scopes {
            var original = try Fixtures.sealedSecret(name)
            var templateMeta = original.template.metadata ?? ObjectMeta()
            templateMeta.labels = ["app": "web"]
            templateMeta.annotations = templateMeta.annotations.merging(["note": "kept"]) { a, _ in a }
            original.template.metadata = templateMeta
            let response = try await send("POST", controller.base + "/v1/rotate", body: ManifestWriter.compactJSON(original.manifest()))
            #expect(response.status == 200, "\(name): \(response.body)")
            #expect(response.header("Content-Type") == "application/json")
            let document = try #require(try ManifestReader.documents(in: response.body, source: "response").first)
            let rotated = try SealedSecret(manifest: document, source: "response")
            #expect(rotated.scope == original.scope)
            #expect(rotated.template.metadata?.labels == ["app": "web"], "template labels kept")
            #expect(rotated.template.metadata?.annotations == original.template.metadata?.annotations, "template annotations kept")
            #expect(rotated.template.metadata?.annotations["note"] == "kept")
            #expect(rotated.template.type == original.template.type)
            #expect(rotated.encryptedData != original.encryptedData)
            let expected = try Unsealer(keys: [upstream.privateKey]).openItems(original)
            #expect(try Unsealer(keys: [newKey.keyPair.privateKey]).openItems(rotated) == expected)
            #expect(throws: UnsealError.self) { try Unsealer(keys: [upstream.privateKey]).openItems(rotated) }
        }
        var tampered = try Fixtures.sealedSecret("sealedsecret-strict.yaml")
        tampered.metadata.namespace = "elsewhere"
        #expect(try await send("POST", controller.base + "/v1/rotate", body: ManifestWriter.compactJSON(tampered.manifest())).status == 409)
        #expect(try await send("POST", controller.base + "/v1/rotate", body: "[1, 2").status == 400)
        await controller.stop()
    }

    @Test func sealantControllerClientTalksToIt() async throws {
        let directory = try Self.upstreamKeyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let controller = try await RunningController.start(keyDirectory: directory) { $0.limits.verifyRate = 0 }
        let client = try ControllerClient(string: controller.base + "/")
        let pem = try await client.certificatePEM()
        let certificate = try SealingCertificate(pem: pem, source: "controller")
        // seal --controller: a Secret sealed with the served cert verifies and rotates.
        var metadata = ObjectMeta()
        metadata.name = "db"
        metadata.namespace = "prod"
        let secret = Secret(metadata: metadata, data: ["password": Array("hunter2".utf8)])
        let sealed = try Sealer(certificate: certificate).seal(secret)
        #expect(try await client.verify(sealed))
        #expect(try await client.verify(try Fixtures.sealedSecret("sealedsecret-namespace-wide.yaml")))
        var moved = sealed
        moved.metadata.namespace = "staging"
        #expect(try await client.verify(moved) == false)
        let rotated = try await client.rotate(sealed)
        #expect(try Unsealer(keys: [try Fixtures.upstreamKeyPair().privateKey]).unseal(rotated).data["password"] == Array("hunter2".utf8))
        await controller.stop()
    }

    @Test func metricsUseUpstreamNames() async throws {
        let directory = try Self.upstreamKeyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let controller = try await RunningController.start(keyDirectory: directory) { $0.limits.verifyRate = 0 }
        _ = try await send("POST", controller.base + "/v1/verify", body: try Fixtures.text("sealedsecret-strict.yaml"))
        _ = try await send("POST", controller.base + "/v1/verify", body: "junk: [")
        _ = try await send("GET", controller.base + "/nowhere")
        controller.service.metrics.recordUnsealRequest()
        controller.service.metrics.recordUnsealError(.unmanaged, namespace: "prod")
        controller.service.metrics.recordCondition(namespace: "prod", name: "db", condition: "Synced", status: false, instance: "")
        let metrics = try await send("GET", "http://127.0.0.1:\(controller.metricsPort)/metrics")
        #expect(metrics.status == 200)
        let text = metrics.body
        #expect(text.contains("sealed_secrets_controller_unseal_requests_total 1"))
        #expect(text.contains(#"sealed_secrets_controller_unseal_errors_total{reason="unmanaged",namespace="prod"} 1"#))
        #expect(text.contains(#"sealed_secrets_controller_condition_info{namespace="prod",name="db",condition="Synced",ss_app_kubernetes_io_instance=""} -1"#))
        #expect(text.contains(#"sealed_secrets_controller_http_requests_total{path="/v1/verify",code="200",method="POST"} 1"#))
        #expect(text.contains(#"sealed_secrets_controller_http_requests_total{path="/v1/verify",code="400",method="POST"} 1"#))
        #expect(text.contains(#"sealed_secrets_controller_http_requests_total{path="other",code="404",method="GET"} 1"#))
        #expect(text.contains("sealed_secrets_controller_http_request_duration_seconds_bucket"))
        await controller.stop()
    }

    @Test func noKeyMeansCertificate500() async throws {
        let registry = KeyRegistry(store: LocalKeyDirectory(path: "/nonexistent-\(UUID().uuidString)"), logger: quietLogger)
        let api = ControllerAPI(registry: registry, metrics: ControllerMetrics(), logger: quietLogger)
        let response = try await api.certificate()
        #expect(response.status.code == 500)
    }
}

import Foundation
import Sealing
import Testing
@testable import Controller

/// Throughput of the reconciler through the stand-in API server, next to the RSA-4096 decrypt limit measured
/// in the same process. Not a timed test: it runs only with SEALANT_BENCHMARK=1 (Benchmarks/controller/run.sh)
/// and prints its numbers instead of asserting them.
@Suite("Reconciler benchmark", .enabled(if: ProcessInfo.processInfo.environment["SEALANT_BENCHMARK"] == "1"))
struct ReconcilerBenchmark {
    @Test func fiveThousandSealedSecrets() async throws {
        let count = Int(ProcessInfo.processInfo.environment["SEALANT_BENCHMARK_COUNT"] ?? "") ?? 5000
        let workers = Int(ProcessInfo.processInfo.environment["SEALANT_BENCHMARK_WORKERS"] ?? "") ?? 4
        let pair = try Fixtures.upstreamKeyPair()
        let sealer = Sealer(publicKey: try pair.certificate.publicKey())

        // The decrypt limit: one RSA-4096 OAEP decrypt + AES-GCM per item, on every core.
        let sample = try (0..<64).map { index in
            try HybridCipher.seal(Array("value-\(index)".utf8), publicKey: sealer.publicKey, label: Array("bench/s\(index)".utf8))
        }
        let keys = [pair.privateKey]
        let rounds = 400
        let started = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: rounds) { index in
            let blob = sample[index % sample.count]
            _ = try? HybridCipher.open(blob, keys: keys, label: Array("bench/s\(index % sample.count)".utf8))
        }
        let decryptSeconds = Self.seconds(ContinuousClock.now - started)
        let decryptsPerSecond = Double(rounds) / decryptSeconds

        var objects: [ManifestObject] = []
        for index in 0..<count {
            var meta = ObjectMeta()
            meta.name = "s\(index)"
            meta.namespace = "bench"
            let sealed = try sealer.seal(Secret(metadata: meta, type: "Opaque", data: ["value": Array("value-\(index)".utf8)]))
            objects.append(try #require(sealed.manifest().object))
        }
        let harness = try await ReconcilerHarness.start({ $0.workers = workers }, prepare: { cluster in
            for object in objects { try await cluster.create("sealedsecrets", object) }
        })
        let begin = ContinuousClock.now
        let done = await eventually(600) { await harness.cluster.secretCount == count }
        let seconds = Self.seconds(ContinuousClock.now - begin)
        await harness.stop()
        #expect(done)
        let secretsPerSecond = Double(count) / seconds
        print(String(format: "BENCH rsa4096-decrypt-limit %.1f/s (2 cores, %d decrypts in %.2fs)", decryptsPerSecond, rounds, decryptSeconds))
        print(String(format: "BENCH reconcile %d SealedSecrets in %.2fs = %.1f Secrets/s with %d workers = %.0f%% of the decrypt limit",
                     count, seconds, secretsPerSecond, workers, 100 * secretsPerSecond / decryptsPerSecond))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension StandInCluster {
    var secretCount: Int { objects["secrets"]?.count ?? 0 }
}

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
        // --kubeclient-qps/--kubeclient-burst: upstream's defaults (5/10) would cap this at a few Secrets/s, so the
        // benchmark sets them high, as users with many SealedSecrets do; the token bucket still runs on every request.
        let qps = Double(ProcessInfo.processInfo.environment["SEALANT_BENCHMARK_QPS"] ?? "") ?? 2000
        let pair = try Fixtures.upstreamKeyPair()
        let sealer = Sealer(publicKey: try pair.certificate.publicKey())

        // The decrypt limit: one RSA-4096 OAEP decrypt + AES-GCM per item, on every core. Measured before and
        // after the reconcile (the machine is shared), with the process CPU time each decrypt costs.
        let sample = try (0..<64).map { index in
            try HybridCipher.seal(Array("value-\(index)".utf8), publicKey: sealer.publicKey, label: Array("bench/s\(index)".utf8))
        }
        let keys = [pair.privateKey]
        let rounds = 400
        func decryptLimit() -> (perSecond: Double, seconds: Double, cpuPerDecrypt: Double) {
            let cpuBefore = Self.processCPUSeconds()
            let started = ContinuousClock.now
            DispatchQueue.concurrentPerform(iterations: rounds) { index in
                let blob = sample[index % sample.count]
                _ = try? HybridCipher.open(blob, keys: keys, label: Array("bench/s\(index % sample.count)".utf8))
            }
            let seconds = Self.seconds(ContinuousClock.now - started)
            return (Double(rounds) / seconds, seconds, (Self.processCPUSeconds() - cpuBefore) / Double(rounds))
        }
        let before = decryptLimit()

        var objects: [ManifestObject] = []
        for index in 0..<count {
            var meta = ObjectMeta()
            meta.name = "s\(index)"
            meta.namespace = "bench"
            let sealed = try sealer.seal(Secret(metadata: meta, type: "Opaque", data: ["value": Array("value-\(index)".utf8)]))
            objects.append(try #require(sealed.manifest().object))
        }
        let harness = try await ReconcilerHarness.start({ $0.workers = workers }, rateLimiter: TokenBucket(rate: qps, burst: Int(2 * qps)),
                                                        prepare: { cluster in
            for object in objects { try await cluster.create("sealedsecrets", object) }
        })
        let cpuBegin = Self.processCPUSeconds()
        let begin = ContinuousClock.now
        let done = await eventually(600) { await harness.cluster.secretCount == count }
        let seconds = Self.seconds(ContinuousClock.now - begin)
        let cpuSeconds = Self.processCPUSeconds() - cpuBegin
        await harness.stop()
        #expect(done)
        let after = decryptLimit()
        let limit = (before.perSecond + after.perSecond) / 2
        let cpuPerDecrypt = (before.cpuPerDecrypt + after.cpuPerDecrypt) / 2
        let secretsPerSecond = Double(count) / seconds
        print(String(format: "BENCH rsa4096-decrypt-limit %.1f/s before, %.1f/s after (2 cores, %d decrypts each); %.2f ms CPU per decrypt",
                     before.perSecond, after.perSecond, rounds, 1000 * cpuPerDecrypt))
        print(String(format: "BENCH reconcile %d SealedSecrets in %.2fs = %.1f Secrets/s with %d workers, kubeclient-qps %.0f burst %d = %.0f%% of the mean decrypt limit",
                     count, seconds, secretsPerSecond, workers, qps, Int(2 * qps), 100 * secretsPerSecond / limit))
        // Load-independent view: the share of the process's CPU time (controller + stand-in API server, both in
        // this process) that the unavoidable decrypts account for.
        print(String(format: "BENCH reconcile CPU %.1fs (controller + stand-in), of which decrypts %.1fs = %.0f%%; %.2f ms CPU per Secret besides the decrypt",
                     cpuSeconds, Double(count) * cpuPerDecrypt, 100 * Double(count) * cpuPerDecrypt / cpuSeconds,
                     1000 * (cpuSeconds / Double(count) - cpuPerDecrypt)))
    }

    /// User + system CPU time of this process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func value(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return value(usage.ru_utime) + value(usage.ru_stime)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension StandInCluster {
    var secretCount: Int { objects["secrets"]?.count ?? 0 }
}

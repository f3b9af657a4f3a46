import Foundation
import Prometheus
import Synchronization

/// The controller's Prometheus metrics, under upstream's names so its dashboards and alerts work unchanged.
public final class ControllerMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    private let unsealRequests: Counter

    static let prefix = "sealed_secrets_controller_"
    /// Prometheus' default buckets, in seconds.
    static let buckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].map { Duration.milliseconds(Int64($0 * 1000)) }

    /// Why an unseal attempt failed, as upstream's `reason` label spells it.
    public enum ErrorReason: String, Sendable {
        case fetch, unseal, update, unmanaged, status
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        _ = registry.makeGauge(descriptor: Self.name("build_info", help: "Build information."), labels: [("revision", "sealant")])
        unsealRequests = registry.makeCounter(descriptor: Self.name("unseal_requests_total", help: "Total number of sealed secret unseal requests"))
    }

    /// Upstream's full name for `metric` (the unit is part of upstream's names, not a separate suffix).
    static func name(_ metric: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: prefix + metric, unitName: "", helpText: help)
    }

    /// One reconcile attempt of a SealedSecret.
    public func recordUnsealRequest() { unsealRequests.increment() }

    /// One failed reconcile attempt.
    public func recordUnsealError(_ reason: ErrorReason, namespace: String) {
        registry.makeCounter(descriptor: Self.name("unseal_errors_total", help: "Total number of sealed secret unseal errors by reason"),
                             labels: [("reason", reason.rawValue), ("namespace", namespace)]).increment()
    }

    /// The Synced condition of a SealedSecret: true → 1, false → −1, unknown → 0.
    public func recordCondition(namespace: String, name: String, condition: String, status: Bool?, instance: String) {
        let key = ConditionKey(namespace: namespace, name: name, condition: condition, instance: instance)
        let value = status.map { $0 ? 1.0 : -1.0 } ?? 0
        conditions.withLock { $0[key] = value }
    }

    /// `condition_info` has one series per SealedSecret, so it is kept here instead of in the registry:
    /// swift-prometheus copies a metric family's whole label-set dictionary for every new label set, which made
    /// registering thousands of SealedSecrets quadratic. Rendered in the same exposition format.
    struct ConditionKey: Hashable {
        let namespace: String
        let name: String
        let condition: String
        let instance: String
    }
    private let conditions = Mutex<[ConditionKey: Double]>([:])
    static let conditionName = prefix + "condition_info"
    static let conditionHelp = "Current SealedSecret condition status. Values are -1 (false), 0 (unknown or absent), 1 (true)"

    private func renderConditions(into buffer: inout [UInt8]) {
        let snapshot = conditions.withLock { $0 }
        guard !snapshot.isEmpty else { return }
        buffer.append(contentsOf: "# HELP \(Self.conditionName) \(Self.conditionHelp)\n# TYPE \(Self.conditionName) gauge\n".utf8)
        for (key, value) in snapshot {
            buffer.append(contentsOf: Self.conditionName.utf8)
            buffer.append(UInt8(ascii: "{"))
            let labels = [("namespace", key.namespace), ("name", key.name), ("condition", key.condition),
                          ("ss_app_kubernetes_io_instance", key.instance)]
            for (index, (label, text)) in labels.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                buffer.append(contentsOf: label.utf8)
                buffer.append(contentsOf: "=\"".utf8)
                for byte in text.utf8 {
                    switch byte {
                    case UInt8(ascii: "\\"): buffer.append(contentsOf: "\\\\".utf8)
                    case UInt8(ascii: "\""): buffer.append(contentsOf: "\\\"".utf8)
                    case UInt8(ascii: "\n"): buffer.append(contentsOf: "\\n".utf8)
                    default: buffer.append(byte)
                    }
                }
                buffer.append(UInt8(ascii: "\""))
            }
            buffer.append(contentsOf: "} \(value)\n".utf8)
        }
    }

    /// One HTTP request to the controller's API.
    public func recordHTTPRequest(path: String, method: String, code: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.name("http_requests_total", help: "Total number of HTTP requests by path, code and method"),
                             labels: [("path", path), ("code", String(code)), ("method", method)]).increment()
        registry.makeDurationHistogram(descriptor: Self.name("http_request_duration_seconds", help: "HTTP request duration in seconds"),
                                       labels: [("path", path), ("method", method)], buckets: Self.buckets).record(duration)
    }

    /// The exposition text.
    public func render() -> [UInt8] {
        var buffer = registry.emitToBuffer()
        renderConditions(into: &buffer)
        return buffer
    }
}

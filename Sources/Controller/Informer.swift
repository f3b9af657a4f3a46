import Foundation
import Logging
import Sealing

/// What an informer reports.
public enum InformerEvent: Sendable {
    /// A (re-)list: the complete current set.
    case replaced([ManifestObject])
    case added(ManifestObject)
    case modified(ManifestObject)
    case deleted(ManifestObject)
}

/// Lists a collection, then watches it from the list's resourceVersion: re-watches from the last seen
/// resourceVersion when a watch ends or the connection drops (with exponential backoff on errors), and lists
/// again when the server answers 410 Gone.
public struct Informer: Sendable {
    /// The API client.
    public let client: KubernetesClient
    /// The collection path.
    public let path: String
    /// Server-side watch timeout.
    public let watchTimeoutSeconds: Int
    /// Longest backoff between failed attempts, in seconds.
    public let maxBackoff: Double
    /// Only objects matching this label selector (list and watch).
    public let labelSelector: String?
    private let logger: Logger

    public init(client: KubernetesClient, path: String, labelSelector: String? = nil, watchTimeoutSeconds: Int = 300,
                maxBackoff: Double = 30, logger: Logger) {
        self.client = client
        self.path = path
        self.labelSelector = labelSelector.flatMap { $0.isEmpty ? nil : $0 }
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.maxBackoff = maxBackoff
        self.logger = logger
    }

    /// Runs until cancelled, passing every change to `handle` in order.
    public func run(_ handle: @Sendable (InformerEvent) async -> Void) async {
        var resourceVersion: String?
        var failures = 0
        while !Task.isCancelled {
            do {
                let version: String
                if let resourceVersion {
                    version = resourceVersion
                } else {
                    let (items, listed) = try await client.list(path, labelSelector: labelSelector)
                    logger.debug("listed", metadata: ["path": "\(path)", "count": "\(items.count)", "resourceVersion": "\(listed)"])
                    await handle(.replaced(items))
                    resourceVersion = listed
                    version = listed
                }
                let started = ContinuousClock.now
                var events = 0
                for try await event in client.watch(path, resourceVersion: version, timeoutSeconds: watchTimeoutSeconds,
                                                           labelSelector: labelSelector) {
                    events += 1
                    failures = 0
                    if let seen = event.object["metadata"]?.object?["resourceVersion"]?.string, !seen.isEmpty {
                        resourceVersion = seen
                    }
                    switch event.type {
                    case "ADDED": await handle(.added(event.object))
                    case "MODIFIED": await handle(.modified(event.object))
                    case "DELETED": await handle(.deleted(event.object))
                    default: continue
                    }
                }
                if events == 0 && ContinuousClock.now - started < .seconds(1) {
                    failures += 1
                    try await backoff(failures, reason: "watch closed at once")
                }
            } catch WatchEnd.expired {
                logger.info("watch expired (410 Gone); listing again", metadata: ["path": "\(path)"])
                resourceVersion = nil
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failures += 1
                do {
                    try await backoff(failures, reason: "\(error)")
                } catch {
                    return
                }
            }
        }
    }

    private func backoff(_ failures: Int, reason: String) async throws {
        let delay = min(maxBackoff, 0.1 * pow(2, Double(min(failures, 20) - 1))) * Double.random(in: 0.8...1.2)
        logger.warning("list/watch failed; retrying", metadata: ["path": "\(path)", "error": "\(reason)",
                                                                 "retry_in_seconds": "\(String(format: "%.2f", delay))"])
        try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
    }
}

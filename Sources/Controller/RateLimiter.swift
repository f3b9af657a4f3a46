import Foundation
import Synchronization

/// A generic cell rate algorithm limiter (as upstream's `throttled`): `rate` requests per second per client,
/// with up to `burst` back to back.
public final class RateLimiter: Sendable {
    private let interval: Double
    private let tolerance: Double
    private let state = Mutex<[String: Double]>([:])
    private static let pruneThreshold = 10_000

    /// A limiter; a `rate` of 0 or less turns limiting off.
    public init(rate: Double, burst: Int) {
        interval = rate > 0 ? 1 / rate : 0
        tolerance = interval * Double(max(burst, 1))
    }

    /// Whether the request from `client` may proceed at `now` (seconds on a monotonic clock); if not,
    /// the seconds to wait.
    public func admit(_ client: String, now: Double) -> (allowed: Bool, retryAfter: Double) {
        guard interval > 0 else { return (true, 0) }
        return state.withLock { arrivals in
            let theoretical = max(arrivals[client] ?? now, now) + interval
            if theoretical - now > tolerance + 1e-9 {
                return (false, theoretical - now - tolerance)
            }
            arrivals[client] = theoretical
            if arrivals.count > Self.pruneThreshold { arrivals = arrivals.filter { $0.value > now } }
            return (true, 0)
        }
    }
}

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

/// A token bucket as client-go's `flowcontrol.NewTokenBucketRateLimiter` (`--kubeclient-qps`,
/// `--kubeclient-burst`): `rate` tokens a second refill a bucket of `burst`; each request takes one, waiting
/// for it when the bucket is empty. Waiting requests queue in arrival order (a token is reserved at once, so
/// the bucket may go negative, as `golang.org/x/time/rate` reservations do).
public final class TokenBucket: Sendable {
    /// Tokens per second.
    public let rate: Double
    /// Bucket size.
    public let burst: Int
    private let state: Mutex<(tokens: Double, last: ContinuousClock.Instant)>

    public init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = max(1, burst)
        state = Mutex((Double(max(1, burst)), ContinuousClock.now))
    }

    /// Takes a token: the seconds to wait before using it (0 when one is available now).
    public func reserve(now: ContinuousClock.Instant = .now) -> Double {
        state.withLock { bucket in
            let elapsed = now - bucket.last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if seconds > 0 {
                bucket.tokens = min(Double(burst), bucket.tokens + seconds * rate)
                bucket.last = now
            }
            bucket.tokens -= 1
            return bucket.tokens >= 0 ? 0 : -bucket.tokens / rate
        }
    }

    /// Waits for a token (throws `CancellationError` when cancelled meanwhile).
    public func acquire() async throws {
        let delay = reserve()
        if delay > 0 { try await Task.sleep(for: .nanoseconds(Int64(delay * 1e9))) }
    }
}

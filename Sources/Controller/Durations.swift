import Foundation

/// Go's `time.ParseDuration` syntax (`720h`, `1h30m`, `90s`, `250ms`, `0`), as upstream's flags take it.
public enum GoDuration {
    /// Seconds in `text`; throws `invalidOption` naming `flag`.
    public static func seconds(_ text: String, flag: String) throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "0" { return 0 }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(trimmed)
        var total = 0.0
        guard !rest.isEmpty else { throw ControllerError.invalidOption(name: flag, value: text, reason: "empty duration") }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else {
                throw ControllerError.invalidOption(name: flag, value: text, reason: "expected a duration like 720h or 30m")
            }
            rest = rest.dropFirst(number.count)
            guard let unit = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) }) else {
                throw ControllerError.invalidOption(name: flag, value: text, reason: "missing or unknown unit (use h, m, s, ms)")
            }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return total
    }

    /// An RFC 1123 date with a numeric zone (`date -R`, Go's `time.RFC1123Z`), as `--key-cutoff-time` takes it.
    public static func rfc1123Z(_ text: String, flag: String) throws -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        guard let date = formatter.date(from: text.trimmingCharacters(in: .whitespaces)) else {
            throw ControllerError.invalidOption(name: flag, value: text, reason: "expected RFC1123Z, e.g. Mon, 02 Jan 2006 15:04:05 -0700")
        }
        return date
    }

    /// RFC 3339 UTC text with whole seconds, as Kubernetes writes timestamps.
    static func rfc3339(_ date: Date) -> String {
        // By hand (gmtime_r): every reconcile writes two timestamps, and FormatStyle costs tens of µs each.
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// Parses a Kubernetes timestamp (whole or fractional seconds).
    static func parseRFC3339(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}

/// `host:port` listen addresses (`:8080` means every interface).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// Host to bind; `0.0.0.0` when the flag gives none.
    public let host: String
    /// Port; 0 asks the system for a free one.
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `--listen-addr` / `--listen-metrics-addr`.
    public init(parsing text: String, flag: String) throws {
        guard let colon = text.lastIndex(of: ":") else {
            throw ControllerError.invalidOption(name: flag, value: text, reason: "expected host:port or :port")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ControllerError.invalidOption(name: flag, value: text, reason: "the port must be a number from 0 to 65535")
        }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

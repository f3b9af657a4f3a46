import Foundation
import Logging

/// `--log-format`: human-readable lines or one JSON object per line.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// Where log lines go.
public enum LogStream: Sendable {
    case standardOutput
    case standardError

    var handle: FileHandle { self == .standardOutput ? .standardOutput : .standardError }
}

/// Writes one JSON object per log record to a stream (`--log-format json`):
/// `{"time":…,"level":…,"msg":…,"logger":…, metadata…}`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let stream: LogStream

    public init(label: String, level: Logger.Level = .info, stream: LogStream = .standardError) {
        self.label = label
        self.logLevel = level
        self.stream = stream
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [("time", Self.timestamp()), ("level", event.level.rawValue), ("msg", event.message.description),
                                          ("logger", label)]
        if let error = event.error { fields.append(("error", "\(error)")) }
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { fields.append((key, merged[key].map { "\($0)" } ?? "")) }
        let body = fields.map { "\(Self.quote($0.0)):\(Self.quote($0.1))" }.joined(separator: ",")
        stream.handle.write(Data(("{" + body + "}\n").utf8))
    }

    static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

/// Sends records below `threshold` to one handler and the rest to another (`--log-info-stdout`: informational
/// lines to standard output, warnings and errors to standard error). Level and metadata apply to both.
public struct LevelSplitLogHandler: LogHandler {
    public var low: any LogHandler
    public var high: any LogHandler
    public let threshold: Logger.Level

    public init(below threshold: Logger.Level, to low: any LogHandler, rest high: any LogHandler) {
        self.threshold = threshold
        self.low = low
        self.high = high
    }

    public var logLevel: Logger.Level {
        get { low.logLevel }
        set { low.logLevel = newValue; high.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { low.metadata }
        set { low.metadata = newValue; high.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { low[metadataKey: key] }
        set { low[metadataKey: key] = newValue; high[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        (event.level < threshold ? low : high).log(event: event)
    }
}

extension LogFormat {
    /// A handler factory for `LoggingSystem.bootstrap`. With `infoToStandardOutput` (`--log-info-stdout`, upstream's
    /// default) records below warning go to standard output and warnings and errors to standard error; without it
    /// everything goes to standard error.
    public func makeHandler(level: Logger.Level, infoToStandardOutput: Bool = false) -> @Sendable (String) -> any LogHandler {
        let single = handler(level: level)
        guard infoToStandardOutput else { return { single($0, .standardError) } }
        return { label in LevelSplitLogHandler(below: .warning, to: single(label, .standardOutput), rest: single(label, .standardError)) }
    }

    private func handler(level: Logger.Level) -> @Sendable (String, LogStream) -> any LogHandler {
        switch self {
        case .json:
            return { label, stream in JSONLogHandler(label: label, level: level, stream: stream) }
        case .text:
            return { label, stream in
                var handler = stream == .standardOutput ? StreamLogHandler.standardOutput(label: label) : StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

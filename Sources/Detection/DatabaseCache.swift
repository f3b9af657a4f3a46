import CVectorscan
import Foundation

/// On-disk cache of compiled Vectorscan databases, so a pre-commit hook does not pay rule
/// compilation on every run. The key covers the patterns, the library version and the CPU's
/// features; writes are atomic (temp file + rename), so concurrent hooks are safe; a corrupt or
/// foreign entry fails to deserialize and is rebuilt.
public struct DatabaseCache: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// `$XDG_CACHE_HOME/sealant` or `~/.cache/sealant`, or `nil` when no home is known.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> DatabaseCache? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return DatabaseCache(directory: xdg + "/sealant")
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return DatabaseCache(directory: home + "/.cache/sealant")
    }

    func key(for patterns: [VectorscanPattern]) -> String {
        var text = "v1\u{0}\(Vectorscan.version)\u{0}\(Self.platformSignature)\u{0}"
        for p in patterns { text += "\(p.id)\u{0}\(p.flags)\u{0}\(p.expression)\u{0}" }
        return Fingerprint.secretHash(text) + Fingerprint.secretHash(String(text.reversed()))
    }

    func path(for patterns: [VectorscanPattern]) -> String { directory + "/db-" + key(for: patterns) + ".hs" }

    func load(patterns: [VectorscanPattern]) -> VectorscanDatabase? {
        guard let data = FileManager.default.contents(atPath: path(for: patterns)) else { return nil }
        return VectorscanDatabase.deserialize([UInt8](data))
    }

    func store(_ database: VectorscanDatabase, patterns: [VectorscanPattern]) {
        guard let bytes = database.serialize() else { return }
        let target = path(for: patterns)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let temp = directory + "/.tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
            try Data(bytes).write(to: URL(fileURLWithPath: temp))
            if rename(temp, target) != 0 { try? FileManager.default.removeItem(atPath: temp) }
        } catch {
            // A cache that cannot be written only costs speed.
        }
    }

    /// CPU tuning and feature bits Vectorscan compiles for.
    static var platformSignature: String {
        var platform = hs_platform_info_t()
        guard hs_populate_platform(&platform) == HS_SUCCESS else { return "unknown" }
        return "\(platform.tune)-\(platform.cpu_features)"
    }
}

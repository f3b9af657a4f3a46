import Foundation

/// The built-in rules kept decoded on disk for scans: parsing ~400 KB of TOML (most of it rule
/// examples) costs a pre-commit run ~25 ms, decoding the same rules without their examples from
/// JSON a fraction of that. The file name carries a hash of the embedded TOML, so a new binary
/// with other rules never reads an old entry; a missing, foreign or corrupt entry is rebuilt
/// (atomic write: temp file + rename, so concurrent hooks are safe); failures only cost speed.
/// The cached rule set has no `examples`, `negativeExamples` or `sampleSecrets`: don't use it
/// for `rules check`.
public struct BuiltInRulesCache: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    var path: String { directory + "/rules-v1-" + Self.hash(DefaultRules.toml) + ".json" }

    /// The built-in rule set, from the cache when possible.
    public func ruleSet() throws -> RuleSet {
        if let stored = FileManager.default.contents(atPath: path), stored.starts(with: Self.magic),
           let cached = try? JSONDecoder().decode(RuleSet.self, from: stored.dropFirst(Self.magic.count)) {
            return cached
        }
        let parsed = try ConfigLoader.builtIn()
        store(parsed)
        return parsed
    }

    private func store(_ ruleSet: RuleSet) {
        var slim = ruleSet
        for i in slim.rules.indices {
            slim.rules[i].examples = []
            slim.rules[i].negativeExamples = []
            slim.rules[i].sampleSecrets = []
        }
        guard let json = try? JSONEncoder().encode(slim) else { return }
        let data = Self.magic + json
        let temporary = directory + "/.rules-\(UUID().uuidString.prefix(8)).tmp"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, path) != 0 { unlink(temporary) }
        } catch {
            unlink(temporary)
        }
    }

    /// The file starts with a NUL byte, so scanners (this one included) treat it as binary and do
    /// not report the rules' own regexes and allowlists as credentials when a home directory is scanned.
    static let magic = Data("sealant-rules\u{0}\n".utf8)

    /// FNV-1a, 64 bits, as 16 hex digits: a cache key, not a security boundary.
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

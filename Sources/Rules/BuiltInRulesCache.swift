import Foundation

/// The built-in rules kept decoded on disk for scans: parsing ~400 KB of TOML (most of it rule
/// examples) costs a pre-commit run ~25 ms, JSON ~8 ms, the same rules without their examples in
/// `RuleSetArchive` form well under one. The file name carries a hash of the embedded TOML (taken
/// at build time), so a new binary with other rules never reads an old entry; a missing, foreign or
/// corrupt entry is rebuilt (atomic write: temp file + rename, so concurrent hooks are safe);
/// failures only cost speed. The cached rule set has no `examples`, `negativeExamples` or
/// `sampleSecrets`: don't use it for `rules check`.
public struct BuiltInRulesCache: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    var path: String { directory + "/rules-v2-" + EmbeddedPatterns.fingerprint + ".bin" }

    /// The built-in rule set, from the cache when possible.
    public func ruleSet() throws -> RuleSet {
        if let stored = FileManager.default.contents(atPath: path), stored.starts(with: Self.magic),
           let cached = try? stored.dropFirst(Self.magic.count).withUnsafeBytes({ try RuleSetArchive.decode($0) }) {
            // The modification time records the last use: the cache keeps the recently used entries.
            utimes(path, nil)
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
        let data = Self.magic + Data(RuleSetArchive.encode(slim))
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
}

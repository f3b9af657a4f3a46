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
        // v2: a relaxed pattern is keyed by its own regex plus the version of the relaxing rewrite.
        var text = "v2\u{0}\(Vectorscan.version)\u{0}\(Self.platformSignature)\u{0}relax-\(Detector.relaxingVersion)\u{0}"
        for p in patterns { text += "\(p.id)\u{0}\(p.flags)\u{0}\(p.relaxed ? "r" : "-")\(p.expression)\u{0}" }
        return Self.hash(text)
    }

    /// 128 bits of SHA-256 over the UTF-8 bytes (one pass; reversing the text by characters to get
    /// a second half cost a pre-commit run several milliseconds).
    static func hash(_ text: String) -> String { String(Fingerprint.sha256Hex(Array(text.utf8)).prefix(32)) }

    func path(for patterns: [VectorscanPattern]) -> String { directory + "/db-" + key(for: patterns) + ".hs" }

    func load(patterns: [VectorscanPattern]) -> VectorscanDatabase? {
        let path = path(for: patterns)
        guard let database = VectorscanDatabase.deserialize(contentsOf: path) else { return nil }
        // The modification time records the last use: pruning keeps the recently used entries.
        utimes(path, nil)
        return database
    }

    func store(_ database: VectorscanDatabase, patterns: [VectorscanPattern]) {
        guard let bytes = database.serialize() else { return }
        write(Data(bytes), to: path(for: patterns))
    }

    /// Earlier `hs_expression_info` answers for these regexes (an empty table when absent or unreadable).
    /// The file belongs to exactly this list of sources (its name hashes them), so it holds one line
    /// per source in the same order and never the regexes themselves: decoding them back was
    /// milliseconds of every pre-commit run.
    /// `alsoCovering`: the rule set's other regexes (paths, allowlists), part of the key because the
    /// table's existence also means they all compiled with this PCRE2 (see `Detector.init`).
    func loadStages(for sources: [String], alsoCovering others: [String] = []) -> [String: StageInfo] {
        let path = stagesPath(for: sources, others: others)
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        utimes(path, nil)
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard lines.count == sources.count + 1, lines[sources.count].isEmpty else { return [:] }
        var table = [String: StageInfo]()
        table.reserveCapacity(sources.count)
        for (source, line) in zip(sources, lines) {
            let fields = line.split(separator: UInt8(ascii: "\t"), maxSplits: 1, omittingEmptySubsequences: false)
            guard fields.count == 2 else { return [:] }
            let first = String(decoding: fields[0], as: UTF8.self), second = String(decoding: fields[1], as: UTF8.self)
            if first == "-" {
                table[source] = StageInfo(result: .failure(RuleStageError(message: second)))
            } else if let flags = UInt32(first), let lookBehind = Int(second) {
                table[source] = StageInfo(result: .success((flags, lookBehind)))
            } else {
                return [:]
            }
        }
        return table
    }

    func storeStages(_ table: [String: StageInfo], for sources: [String], alsoCovering others: [String] = []) {
        var text = ""
        for source in sources {
            guard let info = table[source] else { return }
            switch info.result {
            case .success(let (flags, lookBehind)): text += "\(flags)\t\(lookBehind)\n"
            case .failure(let error): text += "-\t\(error.message.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " "))\n"
            }
        }
        write(Data(text.utf8), to: stagesPath(for: sources, others: others))
    }

    private func stagesPath(for sources: [String], others: [String]) -> String {
        var text = "stages-v3\u{0}\(Vectorscan.version)\u{0}\(PCRE2Regex.libraryVersion)\u{0}"
        for s in sources { text += s + "\u{0}" }
        text += "\u{1}"
        for s in others { text += s + "\u{0}" }
        return directory + "/stages-" + Self.hash(text) + ".tsv"
    }

    /// Atomic write: temp file in the cache folder, then rename; failures only cost speed.
    private func write(_ data: Data, to target: String) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let temp = directory + "/.tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
            try data.write(to: URL(fileURLWithPath: temp))
            if rename(temp, target) != 0 { try? FileManager.default.removeItem(atPath: temp) }
        } catch {
            // A cache that cannot be written only costs speed.
        }
        prune()
    }

    /// Entries of each kind kept: every rule edit makes a new database (~2 MB), so without a bound
    /// the folder grows forever.
    static let keptEntries = 8

    /// Removes all but the `keptEntries` most recently used databases, stage tables and decoded rule
    /// sets (`BuiltInRulesCache`), and temp files left by interrupted writers (older than an hour).
    /// Runs after a write, i.e. rarely.
    func prune() {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory) else { return }
        func modified(_ name: String) -> Date {
            ((try? manager.attributesOfItem(atPath: directory + "/" + name))?[.modificationDate] as? Date) ?? .distantPast
        }
        for prefix in ["db-", "stages-", "rules-"] {
            let entries = names.filter { $0.hasPrefix(prefix) }.map { ($0, modified($0)) }.sorted { $0.1 > $1.1 }
            for (name, _) in entries.dropFirst(Self.keptEntries) { try? manager.removeItem(atPath: directory + "/" + name) }
        }
        let stale = Date().addingTimeInterval(-3600)
        for name in names where (name.hasPrefix(".tmp-") || name.hasPrefix(".rules-")) && modified(name) < stale {
            try? manager.removeItem(atPath: directory + "/" + name)
        }
    }

    /// CPU tuning and feature bits Vectorscan compiles for.
    static var platformSignature: String {
        var platform = hs_platform_info_t()
        guard hs_populate_platform(&platform) == HS_SUCCESS else { return "unknown" }
        return "\(platform.tune)-\(platform.cpu_features)"
    }
}

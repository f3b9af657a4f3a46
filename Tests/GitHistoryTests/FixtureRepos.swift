import Foundation
import GitHistory

/// The repositories built by `Fixtures/git/make-fixture-repos.sh`, built once per test process, and
/// the manifest naming each planted secret and the commit that must be reported for it.
struct FixtureRepos: Sendable {
    let root: String
    let manifest: [String: String]

    /// Why the fixtures could not be built.
    struct BuildFailure: Error, CustomStringConvertible {
        let description: String
    }

    private static let shared: Result<FixtureRepos, BuildFailure> = {
        let built = build()
        // Built once per test process, so removed when the process exits (they piled up in the temporary directory).
        atexit { try? FileManager.default.removeItem(atPath: FixtureRepos.buildDirectory) }
        return built
    }()

    /// Where this process builds the fixtures.
    private static var buildDirectory: String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("sealant-git-fixtures-\(ProcessInfo.processInfo.processIdentifier)").path
    }

    static func load() throws -> FixtureRepos { try shared.get() }

    /// A manifest value; an empty string (which no assertion will match) when missing.
    subscript(key: String) -> String { manifest[key] ?? "" }

    func path(_ name: String) -> String { root + "/" + name }

    func repository(_ name: String) throws -> GitRepository { try GitRepository(discoveringFrom: path(name)) }

    func commit(_ key: String) -> ObjectID? { ObjectID(hex: self[key]) }

    private static func build() -> Result<FixtureRepos, BuildFailure> {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = packageRoot.appendingPathComponent("Fixtures/git/make-fixture-repos.sh").path
        let out = buildDirectory
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, out]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(BuildFailure(description: "cannot run \(script): \(error)"))
        }
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(BuildFailure(description: "\(script) failed: \(String(decoding: stderr, as: UTF8.self))"))
        }
        guard let text = try? String(contentsOfFile: out + "/manifest", encoding: .utf8) else {
            return .failure(BuildFailure(description: "no manifest in \(out)"))
        }
        var manifest: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            manifest[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        // Resolve symlinks (/tmp on some systems) so paths compare equal to libgit2's.
        return .success(FixtureRepos(root: URL(fileURLWithPath: out).resolvingSymlinksInPath().path, manifest: manifest))
    }
}

/// Gathers what scanners deliver from several threads.
final class Collector<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Element] = []

    func append(_ element: Element) {
        lock.lock()
        storage.append(element)
        lock.unlock()
    }

    var items: [Element] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}

func scanBlobs(_ repository: GitRepository, _ selection: CommitSelection = .allRefs,
               _ options: BlobScanOptions = .init()) throws -> ([HistoryUnit], BlobScanSummary) {
    let collector = Collector<HistoryUnit>()
    let summary = try BlobScanner(repository: repository, selection: selection, options: options).run { collector.append($0) }
    return (collector.items, summary)
}

func scanDiffs(_ repository: GitRepository, _ source: DiffSource, workers: Int = 0) throws -> ([DiffUnit], DiffScanSummary) {
    let collector = Collector<DiffUnit>()
    let summary = try DiffScanner(repository: repository, source: source, workers: workers).run { collector.append($0) }
    return (collector.items, summary)
}

extension HistoryUnit {
    func contains(_ text: String) -> Bool { bytes.contains(text) }
    var isBlob: Bool { if case .blob = source { return true } else { return false } }
    var blobID: ObjectID? { if case .blob(let id) = source { return id } else { return nil } }
}

extension DiffUnit {
    func lines(containing text: String) -> [AddedLine] { addedLines.filter { $0.text.contains(text) } }
}

extension Array where Element == UInt8 {
    func contains(_ text: String) -> Bool {
        Data(self).range(of: Data(text.utf8)) != nil
    }
}

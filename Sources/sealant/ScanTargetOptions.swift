import ArgumentParser
import Detection
import Foundation
import GitHistory

/// What a scanning command reads: paths (files, directories, `-` for standard input), the git
/// history selection when the path is a repository, and the file-walk limits. Shared by `scan` and
/// `baseline create`, so a baseline records exactly what the same `scan` would report.
struct ScanTargetOptions: ParsableArguments {
    @Argument(help: "Files or directories to scan; '-' reads standard input.")
    var paths: [String] = ["."]

    @Flag(name: .customLong("no-git"), help: "Scan a git work tree as plain files.")
    var noGit = false

    @Flag(name: .customLong("no-ignore"), help: "Do not honour .gitignore files.")
    var noIgnore = false

    @Flag(name: .customLong("follow-symlinks"), help: "Follow symbolic links (loops are detected).")
    var followSymlinks = false

    @Option(name: .customLong("max-target-megabytes"), help: "Skip files larger than this many megabytes.")
    var maxTargetMegabytes: Int?

    @Option(name: [.customShort("j"), .customLong("threads")], help: "Worker threads (default: all cores).")
    var threads: Int?

    @OptionGroup(title: "Git history") var git: GitOptions

    func validate() throws {
        if noGit && git.usesGit { throw ValidationError("--no-git cannot be combined with git options (--staged, --range, --branch ...)") }
        if paths.contains("-") && git.usesGit { throw ValidationError("standard input has no git history") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let maxTargetMegabytes, maxTargetMegabytes < 1 { throw ValidationError("--max-target-megabytes must be at least 1") }
    }

    /// The first path that is not standard input: where configuration and ignore files are looked up.
    var scanRoot: String? { paths.first { $0 != "-" } }

    var workers: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func makeScan(_ context: DetectionOptions.Context) -> ParallelScan {
        ParallelScan(detector: context.detector, threads: workers,
                     limits: InputLimits(maxFileBytes: (maxTargetMegabytes ?? 0) << 20))
    }

    /// What a scan found (already filtered by ignore files, inline allows and the baseline) and
    /// what it read, for the summary line.
    struct Outcome {
        enum Source {
            case git(GitInput.Summary)
            case files([FileTarget], ScanStats)
        }
        var findings: [Finding]
        var source: Source

        /// The summary line on stderr (shown on a terminal or with --verbose).
        func reportSummary(git: GitOptions, output: OutputOptions, started: Date) {
            switch source {
            case .git(let summary): git.reportSummary(summary, findings: findings, started: started, output: output)
            case .files(_, let stats): output.summary(findings: findings, stats: stats, started: started, what: "files")
            }
        }
    }

    /// Scans the targets: a repository's history (or staged/unstaged changes) when the single path
    /// is inside one and `allowGit`, else files, directories and standard input.
    /// `repository`: `gitRepository()` already started (see `Prefetch`).
    func scan(_ context: DetectionOptions.Context, using scan: ParallelScan, allowGit: Bool = true,
              showProgress: Bool = false, repository prefetched: Prefetch<GitRepository?>? = nil) throws -> Outcome {
        if allowGit, let repository = try prefetched?.value() ?? gitRepository() {
            var input = GitInput(repository: repository, scan: scan, workers: workers)
            input.showsProgress = showProgress
            let (findings, summary) = try git.run(input, maxBlobSize: maxTargetMegabytes.map { $0 << 20 })
            return Outcome(findings: context.suppress(findings), source: .git(summary))
        }

        var findings = [Finding]()
        var stats = ScanStats()
        var walker = FileWalker(respectGitignore: !noIgnore, followSymlinks: followSymlinks)
        if paths.contains("-") {
            let input = FileHandle.standardInput.readDataToEndOfFile()
            let scanner = context.detector.makeScanner()
            findings += scan.scan(bytes: [UInt8](input), provenance: Provenance(file: "stdin"), scanner: scanner)
            stats.units += 1
            stats.bytes += input.count
        }
        // The walk feeds the workers as it goes.
        let found = FoundFiles()
        let progress = ProgressLine(enabled: showProgress, found: found)
        let result = try scan.scan(streaming: { emit in
            for path in paths where path != "-" {
                do {
                    try walker.walk(under: path) { file in
                        found.add()
                        emit(file)
                    }
                } catch let error as FileWalkError {
                    throw CLIError("\(error.path): \(error.reason)")
                }
            }
            found.finish()
        }, progress: progress.update)
        progress.finish()
        let files = result.files
        for warning in walker.warnings { printError("sealant: warning: \(warning)") }
        findings += result.findings
        stats.merge(result.stats)
        for warning in stats.warnings { printError("sealant: warning: \(warning)") }
        return Outcome(findings: context.suppress(findings), source: .files(files, stats))
    }

    /// The repository to scan history of: the single directory argument when it is (inside) a git
    /// repository and `--no-git` is not given. Git options without a repository are an error.
    func gitRepository() throws -> GitRepository? {
        guard !noGit, paths.count == 1, let path = paths.first, path != "-" else { return nil }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard (exists && isDirectory.boolValue) || git.usesGit else { return nil }
        do {
            return try GitRepository(discoveringFrom: path)
        } catch {
            if git.usesGit { throw CLIError("\(error)") }
            return nil
        }
    }
}

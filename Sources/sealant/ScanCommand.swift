import ArgumentParser
import Detection
import Foundation
import GitHistory
import Reporting
import Rules

/// `sealant scan`: find hardcoded credentials in files, directories and standard input.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan files, directories or standard input (-) for hardcoded credentials.",
        discussion: "Exit status: 0 nothing found, 1 findings (see --exit-code), 2 usage, configuration or runtime error."
    )

    @Argument(help: "Files or directories to scan; '-' reads standard input.")
    var paths: [String] = ["."]

    @OptionGroup var detection: DetectionOptions
    @OptionGroup var output: OutputOptions

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

    func run() async throws {
        let started = Date()
        let scanRoot = paths.first { $0 != "-" }
        let context = try detection.makeContext(scanRoot: scanRoot)
        let limits = InputLimits(maxFileBytes: (maxTargetMegabytes ?? 0) << 20)
        let workers = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let scan = ParallelScan(detector: context.detector, threads: workers, limits: limits)

        if let repository = try gitRepository() {
            let input = GitInput(repository: repository, scan: scan, workers: workers)
            var (findings, summary) = try git.run(input, maxBlobSize: maxTargetMegabytes.map { $0 << 20 })
            findings = context.suppress(findings)
            try output.write(findings, ruleSet: context.detector.ruleSet, scanRoot: scanRoot, started: started)
            git.reportSummary(summary, findings: findings, started: started, output: output)
            if !findings.isEmpty { throw ExitCode(Int32(output.exitCode)) }
            return
        }

        var findings = [Finding]()
        var stats = ScanStats()
        var files = [FileTarget]()
        var walker = FileWalker(respectGitignore: !noIgnore, followSymlinks: followSymlinks)
        for path in paths where path != "-" {
            do {
                files += try walker.files(under: path)
            } catch let error as FileWalkError {
                throw CLIError("\(error.path): \(error.reason)")
            }
        }
        for warning in walker.warnings { printError("sealant: warning: \(warning)") }
        if paths.contains("-") {
            let input = FileHandle.standardInput.readDataToEndOfFile()
            let scanner = context.detector.makeScanner()
            findings += scan.scan(bytes: [UInt8](input), provenance: Provenance(file: "stdin"), scanner: scanner)
            stats.units += 1
            stats.bytes += input.count
        }
        let progress = ProgressLine(enabled: output.showsProgress, total: files.count)
        let result = scan.scan(files, progress: progress.update)
        progress.finish()
        findings += result.findings
        stats.merge(result.stats)
        for warning in stats.warnings { printError("sealant: warning: \(warning)") }

        findings = context.suppress(findings)
        try output.write(findings, ruleSet: context.detector.ruleSet, scanRoot: scanRoot, started: started)
        output.summary(findings: findings, stats: stats, started: started, what: "files")
        if !findings.isEmpty { throw ExitCode(Int32(output.exitCode)) }
    }

    /// The repository to scan history of: the single directory argument when it is (inside) a git
    /// repository and `--no-git` is not given. Git options without a repository are an error.
    private func gitRepository() throws -> GitRepository? {
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

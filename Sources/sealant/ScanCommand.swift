import ArgumentParser
import Detection
import Foundation
import GitHistory
import Sealing
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

    @Flag(name: .customLong("fix"), help: "Seal every plain Kubernetes Secret found in the files, in place (needs --cert or --controller), then scan again.")
    var fix = false

    @Option(name: .customLong("cert"), help: "With --fix: certificate to seal with (PEM file or URL).")
    var cert: String?

    @Option(name: .customLong("controller"), help: "With --fix: controller to fetch the certificate from.")
    var controller: String?

    @Flag(name: .customLong("dry-run"), help: "With --fix: list what would be sealed, change nothing.")
    var dryRun = false

    func validate() throws {
        if noGit && git.usesGit { throw ValidationError("--no-git cannot be combined with git options (--staged, --range, --branch ...)") }
        if paths.contains("-") && git.usesGit { throw ValidationError("standard input has no git history") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if fix {
            guard (cert == nil) != (controller == nil) else { throw ValidationError("--fix needs --cert FILE|URL or --controller URL") }
            guard !git.usesGit && !paths.contains("-") else { throw ValidationError("--fix works on files, not on git history or standard input") }
        } else if cert != nil || controller != nil || dryRun {
            throw ValidationError("--cert, --controller and --dry-run only apply to --fix")
        }
        if let maxTargetMegabytes, maxTargetMegabytes < 1 { throw ValidationError("--max-target-megabytes must be at least 1") }
    }

    func run() async throws {
        let started = Date()
        let scanRoot = paths.first { $0 != "-" }
        let context = try detection.makeContext(scanRoot: scanRoot)
        let limits = InputLimits(maxFileBytes: (maxTargetMegabytes ?? 0) << 20)
        let workers = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let scan = ParallelScan(detector: context.detector, threads: workers, limits: limits)

        if !fix, let repository = try gitRepository() {
            var input = GitInput(repository: repository, scan: scan, workers: workers)
            input.showsProgress = output.showsProgress
            var (findings, summary) = try git.run(input, maxBlobSize: maxTargetMegabytes.map { $0 << 20 })
            findings = context.suppress(findings)
            try output.write(findings, ruleSet: context.detector.ruleSet, scanRoot: scanRoot, started: started)
            git.reportSummary(summary, findings: findings, started: started, output: output)
            printSealingHint(findings)
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
        if fix {
            findings = try await sealPlainSecrets(findings, files: files, scan: scan, context: context)
        }
        try output.write(findings, ruleSet: context.detector.ruleSet, scanRoot: scanRoot, started: started)
        output.summary(findings: findings, stats: stats, started: started, what: "files")
        printSealingHint(findings)
        if !findings.isEmpty { throw ExitCode(Int32(output.exitCode)) }
    }

    /// `--fix`: seals the files holding plain Secrets (the same code as `sealant seal --in-place`),
    /// then scans those files again and returns what is left.
    private func sealPlainSecrets(_ findings: [Finding], files: [FileTarget], scan: ParallelScan,
                                  context: DetectionOptions.Context) async throws -> [Finding] {
        let targets = files.filter { target in findings.contains { $0.ruleID == "kubernetes-secret-manifest" && $0.file == target.displayPath } }
        guard !targets.isEmpty else {
            printError("sealant: --fix: no plain Secret manifests to seal")
            return findings
        }
        let certificate = try await SealCLI.certificate(cert: cert, controller: controller)
        let sealer = InPlaceSealer(sealer: Sealer(certificate: certificate))
        let (results, errors) = sealer.seal(paths: targets.map(\.openPath), dryRun: dryRun)
        for result in results where !result.replacements.isEmpty {
            let names = result.replacements.map(\.secret).joined(separator: ", ")
            printError("sealant: \(dryRun ? "would seal" : "sealed") \(result.replacements.count) Secret(s) in \(result.path): \(names)")
        }
        for error in errors { printError("sealant: cannot seal \(error.path): \(error.message)") }
        if dryRun { return findings }
        // Scan the rewritten files again; findings elsewhere stand as they were.
        let rewritten = Set(results.filter { !$0.replacements.isEmpty }.map(\.path))
        let again = rewritten.isEmpty ? [] : context.suppress(scan.scan(targets.filter { rewritten.contains($0.openPath) }).findings)
        let remaining = findings.filter { f in !targets.contains { rewritten.contains($0.openPath) && $0.displayPath == f.file } } + again
        let left = remaining.filter { $0.ruleID == "kubernetes-secret-manifest" }.count
        printError("sealant: --fix: \(left == 0 ? "no plain Secrets left" : "\(left) Secret value(s) could not be sealed (see errors above)"); \(remaining.count) finding(s) remain that sealing cannot fix")
        return remaining.sorted { ($0.file, $0.startLine, $0.startColumn) < ($1.file, $1.startLine, $1.startColumn) }
    }

    /// Rules whose findings are credentials outside a Secret: the fix is to move them into one.
    static let moveToSecretRules: Set<String> = ["kubernetes-configmap-credential", "kubernetes-env-credential", "helm-values-credential", "kustomize-secret-literal"]

    /// Plain Secret manifests have a one-command fix: say which. Credentials in ConfigMaps, env
    /// values and Helm values need a Secret first: say that too.
    private func printSealingHint(_ findings: [Finding]) {
        let misplaced = findings.filter { Self.moveToSecretRules.contains($0.ruleID) && $0.commit.isEmpty }.count
        if misplaced > 0 {
            printError("sealant: \(misplaced) credential(s) in ConfigMaps, container env, Helm values or kustomize literals: move each into a Secret")
            printError("    (env: valueFrom.secretKeyRef; Helm: the chart's existingSecret), then seal that Secret: sealant seal --in-place FILE --cert CERT.pem")
        }
        let files = Set(findings.filter { $0.ruleID == "kubernetes-secret-manifest" && $0.commit.isEmpty }.map(\.file)).sorted()
        let historic = findings.contains { $0.ruleID == "kubernetes-secret-manifest" && !$0.commit.isEmpty }
        guard !files.isEmpty || historic else { return }
        if !files.isEmpty {
            let shown = files.prefix(3).map { $0.contains(" ") ? "'\($0)'" : $0 }
            var list = shown.joined(separator: " ")
            if files.count > shown.count { list += " ... (\(files.count) files; or: sealant scan --fix)" }
            printError("sealant: plain Kubernetes Secrets found; seal them before committing:")
            printError("    sealant seal --in-place \(list) --cert CERT.pem    (or --controller URL)")
            if git.staged { printError("    then: git add \(list)") }
        } else {
            printError("sealant: plain Kubernetes Secrets were committed in history; rotate those values, then seal the manifests (sealant scan --fix)")
        }
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

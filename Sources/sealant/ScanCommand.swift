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

    @OptionGroup var targets: ScanTargetOptions
    @OptionGroup var detection: DetectionOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .customLong("fix"), help: "Seal every plain Kubernetes Secret found in the files, in place (needs --cert or --controller), then scan again.")
    var fix = false

    @Option(name: .customLong("cert"), help: "With --fix: certificate to seal with (PEM file or URL).")
    var cert: String?

    @Option(name: .customLong("controller"), help: "With --fix: controller to fetch the certificate from.")
    var controller: String?

    @Flag(name: .customLong("dry-run"), help: "With --fix: list what would be sealed, change nothing.")
    var dryRun = false

    /// The git selection flags (`--staged`, `--range`, ...).
    var git: GitOptions { targets.git }

    func validate() throws {
        if fix {
            guard (cert == nil) != (controller == nil) else { throw ValidationError("--fix needs --cert FILE|URL or --controller URL") }
            guard !git.usesGit && !targets.paths.contains("-") else { throw ValidationError("--fix works on files, not on git history or standard input") }
        } else if cert != nil || controller != nil || dryRun {
            throw ValidationError("--cert, --controller and --dry-run only apply to --fix")
        }
    }

    func run() async throws {
        let started = Date()
        let scanRoot = targets.scanRoot
        // Opening the repository overlaps loading the rules (what a pre-commit run waits on).
        let targets = self.targets
        let repository = fix ? nil : Prefetch { try targets.gitRepository() }
        let context = try detection.makeContext(scanRoot: scanRoot)
        let scan = targets.makeScan(context)
        let outcome = try targets.scan(context, using: scan, allowGit: !fix, showProgress: output.showsProgress, repository: repository)
        var findings = outcome.findings
        if fix, case .files(let files, _) = outcome.source {
            findings = try await sealPlainSecrets(findings, files: files, scan: scan, context: context)
        }
        try output.write(findings, ruleSet: context.detector.ruleSet, scanRoot: scanRoot, started: started)
        var reported = outcome
        reported.findings = findings
        reported.reportSummary(git: git, output: output, started: started)
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
}

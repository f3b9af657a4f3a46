import ArgumentParser
import Detection
import Foundation
import Reporting
import Sealing

/// `sealant baseline create`: record today's findings so later scans (`--baseline-path`) report
/// only new ones.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Record current findings so that later scans report only new ones.",
        subcommands: [Create.self]
    )

    /// The file `baseline create` writes when `--output` is not given (in the current directory).
    static let defaultPath = ".sealant-baseline.json"

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Scan like `sealant scan` and write every finding to a baseline file.",
            discussion: """
                The baseline is a JSON report (the format --baseline-path reads) with every secret
                redacted: findings are matched by their content fingerprint (file, rule and a hash
                of the secret), so the file is safe to commit. Moving or reformatting a line keeps a
                finding suppressed; a different secret on the same line is reported. Then scan with
                `sealant scan --baseline-path \(BaselineCommand.defaultPath)`.
                Exit status: 0 written, 2 usage, configuration or runtime error.
                """)

        @OptionGroup var targets: ScanTargetOptions
        @OptionGroup var detection: DetectionOptions

        @Option(name: [.short, .long], help: "Where to write the baseline (default: \(BaselineCommand.defaultPath)).")
        var output: String = BaselineCommand.defaultPath

        @Flag(name: .customLong("keep-secrets"), help: "Store secrets in clear (don't: baselines get committed).")
        var keepSecrets = false

        func validate() throws {
            if detection.baselinePath != nil {
                throw ValidationError("--baseline-path does not apply: baseline create records every current finding (the new file replaces the old one)")
            }
            if output == "-" { throw ValidationError("--output needs a file name") }
        }

        func run() async throws {
            let context = try detection.makeContext(scanRoot: targets.scanRoot)
            let outcome = try targets.scan(context, using: targets.makeScan(context))
            let text = renderReport(outcome.findings, format: .json,
                                    options: ReportOptions(redactPercent: keepSecrets ? 0 : 100, toolName: "sealant",
                                                           toolVersion: SealantVersion.string))
            do {
                try AtomicFileWriter.write(text, to: output)
            } catch {
                throw CLIError("\(output): cannot write the baseline: \(error)")
            }
            let count = outcome.findings.count
            print("recorded \(count) finding\(count == 1 ? "" : "s") in \(output)\(keepSecrets ? " (secrets in clear)" : "")")
        }
    }
}

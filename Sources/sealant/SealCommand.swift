import ArgumentParser
import Foundation
import Sealing

/// `sealant seal`: Secret manifests in, SealedSecret manifests out (kubeseal-compatible).
struct SealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Seal Kubernetes Secrets into SealedSecrets (Bitnami Sealed Secrets compatible).",
        discussion: """
        Reads Secret manifests (YAML, several documents, or JSON) from standard input or -f and writes
        SealedSecrets to standard output or -w. With --in-place, replaces every Secret document in the
        given manifest files and directories, keeping everything else in them as it was.
        """
    )

    @Option(name: [.customShort("f"), .customLong("file")], help: "Secret manifest(s) to seal (default: standard input).")
    var file: String?

    @Option(name: [.customShort("w"), .customLong("write")], help: "Write the SealedSecrets to this file, atomically and only on success (default: standard output).")
    var output: String?

    @Option(name: [.customShort("o"), .customLong("format")], help: "Output format: yaml or json (default: yaml, or json for a .json -w file).")
    var format: ManifestFormat?

    @Option(help: "Certificate to seal with: a PEM file, or an http(s):// or file:// URL.")
    var cert: String?

    @Option(help: "Base URL of a running controller; the certificate is fetched from URL/v1/cert.pem.")
    var controller: String?

    @Option(help: "Scope: strict, namespace-wide or cluster-wide (default: from the Secret's annotations, else strict).")
    var scope: SealingScope?

    @Option(name: [.short, .long], help: "Namespace for Secrets without one (default: default); a Secret in another namespace is an error.")
    var namespace: String?

    @Option(help: "Override the Secret's name (with --raw: the name the value is bound to).")
    var name: String?

    @Flag(help: "Seal one value and print the bare base64 ciphertext (from standard input or --from-file).")
    var raw = false

    @Option(name: .customLong("from-file"), help: "With --raw: read the value from this file ([key=]path; the key is ignored).")
    var fromFile: String?

    @Option(name: .customLong("merge-into"), help: "Add or replace items in this existing SealedSecret file, keeping the rest.")
    var mergeInto: String?

    @Flag(name: .customLong("allow-empty-data"), help: "Allow Secrets with no data or stringData.")
    var allowEmptyData = false

    @Flag(name: .customLong("in-place"), help: "Seal the Secret documents inside the given manifest files and directories.")
    var inPlace = false

    @Flag(name: .customLong("dry-run"), help: "With --in-place: list what would be sealed, change nothing.")
    var dryRun = false

    @Argument(help: "With --in-place: .yaml, .yml or .json files and directories.")
    var paths: [String] = []

    func validate() throws {
        if inPlace {
            guard !paths.isEmpty else { throw ValidationError("--in-place needs at least one file or directory") }
            guard file == nil, output == nil, mergeInto == nil, !raw else {
                throw ValidationError("--in-place can't be combined with -f, -w, --merge-into or --raw")
            }
        } else {
            guard paths.isEmpty else { throw ValidationError("file arguments need --in-place (use -f to read one Secret file)") }
            guard !dryRun else { throw ValidationError("--dry-run only applies to --in-place") }
        }
        if fromFile != nil && !raw { throw ValidationError("--from-file only applies to --raw") }
        if raw && mergeInto != nil { throw ValidationError("--raw can't be combined with --merge-into") }
        if cert != nil && controller != nil { throw ValidationError("give either --cert or --controller, not both") }
    }

    func run() async throws {
        try await SealCLI.wrap {
            let certificate = try await SealCLI.certificate(cert: cert, controller: controller)
            let sealer = Sealer(certificate: certificate)
            let options = SealOptions(scope: scope, namespace: namespace, name: name, allowEmptyData: allowEmptyData)
            if inPlace {
                try sealInPlace(sealer: sealer, options: options)
            } else if raw {
                try sealRaw(sealer: sealer)
            } else if let mergeInto {
                try merge(into: mergeInto, sealer: sealer, options: options)
            } else {
                let (text, source) = try SealCLI.readText(file)
                let sealed = try Documents.seal(text, source: source, sealer: sealer, options: options)
                let rendered = try ManifestWriter.render(sealed.map { $0.manifest() }, as: SealCLI.format(format, path: output))
                try SealCLI.write(rendered, to: output)
            }
        }
    }

    private func sealRaw(sealer: Sealer) throws {
        let value: [UInt8]
        if let fromFile {
            // --from-file=[key=]path: the key part is ignored, as kubeseal does.
            let path = fromFile.firstIndex(of: "=").map { String(fromFile[fromFile.index(after: $0)...]) } ?? fromFile
            value = try SealCLI.read(path).bytes
        } else {
            value = try SealCLI.read(file).bytes
        }
        let blob = try sealer.sealRaw(value, scope: scope ?? .strict, namespace: namespace, name: name)
        try SealCLI.write(blob, to: output)
    }

    private func merge(into path: String, sealer: Sealer, options: SealOptions) throws {
        let (existingText, existingSource) = try SealCLI.readText(path)
        let existing = try Documents.sealedSecrets(in: existingText, source: existingSource)
        guard existing.count == 1 else { throw SealCLI.Failure("\(path): --merge-into needs a file with exactly one SealedSecret") }
        let (text, source) = try SealCLI.readText(file)
        let secrets = try Documents.secrets(in: text, source: source)
        guard secrets.count == 1 else { throw SealCLI.Failure("\(source): --merge-into seals exactly one Secret, found \(secrets.count)") }
        let merged = try sealer.merge(secrets[0], into: existing[0], options: options)
        let isJSON = existingText.drop { $0.isWhitespace }.first == "{"
        let outputFormat = format ?? (isJSON ? .json : .yaml)
        try AtomicFileWriter.write(try ManifestWriter.render(merged.manifest(), as: outputFormat), to: path)
    }

    private func sealInPlace(sealer: Sealer, options: SealOptions) throws {
        let (results, errors) = InPlaceSealer(sealer: sealer, options: options).seal(paths: paths, dryRun: dryRun)
        var count = 0
        for result in results {
            for replacement in result.replacements {
                count += 1
                print("\(dryRun ? "would seal" : "sealed") \(result.path):\(replacement.line) Secret \(replacement.secret)")
            }
        }
        for error in errors { SealCLI.note("sealant: error: \(error)") }
        SealCLI.note("\(dryRun ? "would seal" : "sealed") \(count) Secret\(count == 1 ? "" : "s") in \(results.filter { !$0.replacements.isEmpty }.count) file(s)"
            + (errors.isEmpty ? "" : "; \(errors.count) file(s) failed and were left unchanged"))
        if !errors.isEmpty { throw ExitCode(2) }
    }
}

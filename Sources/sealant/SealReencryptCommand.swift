import ArgumentParser
import Foundation
import Sealing

/// `sealant reencrypt`: re-seal SealedSecrets for a newer key, offline or through the controller.
struct SealReencryptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reencrypt",
        abstract: "Re-seal SealedSecrets with a newer certificate, keeping scope and template.",
        discussion: """
        Offline: --key OLD... opens the items and --cert NEW seals them again. Through a controller:
        --controller URL posts each SealedSecret to URL/v1/rotate. With -f and no -w the input file is
        rewritten in place (atomically).
        """
    )

    @Option(name: .customLong("key"), help: "Private key(s) that open the current items (repeatable; files, key Secrets or directories).")
    var keys: [String] = []

    @Option(help: "Certificate to re-seal with: a PEM file or an http(s):// or file:// URL.")
    var cert: String?

    @Option(help: "Base URL of a running controller: re-seal through its /v1/rotate endpoint.")
    var controller: String?

    @Option(name: [.customShort("f"), .customLong("file")], help: "SealedSecret manifest(s) (default: standard input).")
    var file: String?

    @Option(name: [.customShort("w"), .customLong("write")], help: "Output file (default: the -f file, else standard output).")
    var output: String?

    @Option(name: [.customShort("o"), .customLong("format")], help: "Output format: yaml or json (default: yaml, or json for .json files).")
    var format: ManifestFormat?

    func validate() throws {
        if controller != nil {
            guard keys.isEmpty, cert == nil else { throw ValidationError("--controller can't be combined with --key or --cert") }
        } else {
            guard !keys.isEmpty, cert != nil else { throw ValidationError("give --key OLD... and --cert NEW, or --controller URL") }
        }
    }

    func run() async throws {
        try await SealCLI.wrap {
            let (text, source) = try SealCLI.readText(file)
            let sealedSecrets = try Documents.sealedSecrets(in: text, source: source)
            var results: [SealedSecret] = []
            if let controller {
                let client = try ControllerClient(string: controller)
                for sealed in sealedSecrets { results.append(try await client.rotate(sealed)) }
            } else if let cert {
                let sealer = Sealer(certificate: try await CertificateSource.load(cert))
                let unsealer = Unsealer(keys: try PrivateKeyLoader.load(paths: keys))
                results = try sealedSecrets.map { try unsealer.reencrypt($0, with: sealer) }
            }
            let destination = output ?? file
            let rendered = try ManifestWriter.render(results.map { $0.manifest() }, as: SealCLI.format(format, path: destination))
            try SealCLI.write(rendered, to: destination)
        }
    }
}

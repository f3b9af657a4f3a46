import ArgumentParser
import Foundation
import Sealing

/// `sealant unseal`: offline recovery of Secrets from SealedSecrets with the controller's private keys.
struct UnsealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unseal",
        abstract: "Decrypt SealedSecrets back into Secrets offline, with the controller's private keys (recovery).",
        discussion: """
        Keys may be PEM private keys (PKCS#1 or PKCS#8), controller key Secret manifests (YAML/JSON,
        several documents, or a kind: List), or directories of them. Every key is tried for every item.
        The template is rendered as the controller would (metadata, type, immutable, template.data).
        An output file is written with mode 0600.
        """
    )

    @Option(name: .customLong("key"), help: "Private key file, key Secret manifest, or directory of them (repeatable).")
    var keys: [String] = []

    @Option(name: [.customShort("f"), .customLong("file")], help: "SealedSecret manifest(s) (default: standard input).")
    var file: String?

    @Option(name: [.customShort("w"), .customLong("write")], help: "Write the Secrets to this file (mode 0600) instead of standard output.")
    var output: String?

    @Option(name: [.customShort("o"), .customLong("format")], help: "Output format: yaml or json (default: yaml, or json for a .json -w file).")
    var format: ManifestFormat?

    func validate() throws {
        guard !keys.isEmpty else { throw ValidationError("give at least one --key") }
    }

    func run() async throws {
        try await SealCLI.wrap {
            let unsealer = Unsealer(keys: try PrivateKeyLoader.load(paths: keys))
            let (text, source) = try SealCLI.readText(file)
            let secrets = try unsealer.unseal(try Documents.sealedSecrets(in: text, source: source))
            let rendered = try ManifestWriter.render(secrets.map { $0.manifest() }, as: SealCLI.format(format, path: output))
            try SealCLI.write(rendered, to: output, mode: 0o600)
        }
    }
}

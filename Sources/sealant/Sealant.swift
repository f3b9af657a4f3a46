import ArgumentParser

/// The `sealant` command line: detect credentials, seal Kubernetes Secrets.
@main
struct Sealant: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sealant",
        abstract: "Keep credentials out of git and commit Kubernetes Secrets safely.",
        version: SealantVersion.string,
        subcommands: [
            // Detect
            // Seal
            SealCommand.self,
            UnsealCommand.self,
            SealReencryptCommand.self,
            SealValidateCommand.self,
            SealKeygenCommand.self,
            SealCertCommand.self,
        ]
    )
}

/// The version printed by `sealant --version`.
enum SealantVersion {
    static let string = "0.1.0"
}

import ArgumentParser
import Foundation
import Sealing

/// `sealant validate`: check that every SealedSecret in a file can be unsealed.
struct SealValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check that SealedSecrets can be unsealed, with private keys or by asking the controller.",
        discussion: "Exit status 0 when every item unseals (template included), 1 when one does not, 2 on other errors."
    )

    @Argument(help: "SealedSecret manifest file (- for standard input).")
    var file: String

    @Option(name: .customLong("key"), help: "Private key file, key Secret manifest, or directory (repeatable).")
    var keys: [String] = []

    @Option(help: "Base URL of a running controller: ask its /v1/verify endpoint instead.")
    var controller: String?

    func validate() throws {
        guard keys.isEmpty != (controller == nil) else { throw ValidationError("give either --key KEY... or --controller URL") }
    }

    func run() async throws {
        let failures = try await SealCLI.wrap { () async throws -> Int in
            let (text, source) = try SealCLI.readText(file)
            let sealedSecrets = try Documents.sealedSecrets(in: text, source: source)
            var failures = 0
            if let controller {
                let client = try ControllerClient(string: controller)
                for sealed in sealedSecrets where try await !client.verify(sealed) {
                    failures += 1
                    SealCLI.note("unable to decrypt sealed secret: \(sealed.metadata.displayName)")
                }
            } else {
                let unsealer = Unsealer(keys: try PrivateKeyLoader.load(paths: keys))
                for sealed in sealedSecrets {
                    do {
                        _ = try unsealer.unseal(sealed)
                    } catch {
                        failures += 1
                        SealCLI.note("unable to decrypt sealed secret: \(error)")
                    }
                }
            }
            if failures == 0 { SealCLI.note("\(source): \(sealedSecrets.count) SealedSecret(s) OK") }
            return failures
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

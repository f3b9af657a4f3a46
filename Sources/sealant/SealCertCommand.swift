import ArgumentParser
import Foundation
import Sealing

/// `sealant cert`: print a controller's sealing certificate.
struct SealCertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Print the certificate a running controller seals with (GET URL/v1/cert.pem)."
    )

    @Option(help: "Base URL of the controller, e.g. http://localhost:8080.")
    var controller: String

    func run() async throws {
        try await SealCLI.wrap {
            let url = "\(controller)/v1/cert.pem"
            let pem = try await ControllerClient(string: controller).certificatePEM()
            // Check it is a usable certificate before printing it.
            _ = try SealingCertificate(pem: pem, source: url)
            FileHandle.standardOutput.write(Data(pem))
        }
    }
}

import ArgumentParser
import Foundation

/// The `sealant` command line: detect credentials, seal Kubernetes Secrets.
@main
struct Sealant: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sealant",
        abstract: "Keep credentials out of git and commit Kubernetes Secrets safely.",
        version: SealantVersion.string,
        subcommands: [
            // Detect
            RulesCommand.self,
            // Seal
        ]
    )

    /// Exit codes: 0 clean, 1 findings (or a failed check), 2 usage, configuration or runtime error.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch let error as CLIError {
            printError("sealant: error: \(error.description)")
            Foundation.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)  // --help, --version
            }
            printError(fullMessage(for: error))
            Foundation.exit(2)
        }
    }
}

/// The version printed by `sealant --version`.
enum SealantVersion {
    static let string = "0.1.0"
}

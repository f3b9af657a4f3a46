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
            ScanCommand.self,
            ProtectCommand.self,
            HookCommand.self,
            BaselineCommand.self,
            RulesCommand.self,
            // Seal
            SealCommand.self,
            UnsealCommand.self,
            SealReencryptCommand.self,
            SealValidateCommand.self,
            SealKeygenCommand.self,
            SealCertCommand.self,
            ControllerCommand.self,
        ]
    )

    /// Exit codes: 0 clean, 1 findings (or a failed check), 2 usage, configuration or runtime error.
    static func main() async {
        do {
            var command = try parseAsRoot(normalizedArguments(Array(CommandLine.arguments.dropFirst()),
                                                              environment: ProcessInfo.processInfo.environment))
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
            if CommandLine.arguments.dropFirst().first == "controller" {
                // The controller runs in pods: one line per error, as its logs and upstream's flags are read.
                let line = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
                printError("sealant: error: \(line) (see 'sealant controller --help')")
            } else {
                printError(fullMessage(for: error))
            }
            Foundation.exit(2)
        }
    }
}

/// gitleaks-style bare `--redact` means `--redact=100`; ArgumentParser needs the value spelled out.
func normalizedArguments(_ arguments: [String], environment: [String: String]) throws -> [String] {
    let arguments = try ControllerCommand.normalized(arguments, environment: environment)
    var out = [String]()
    for (i, arg) in arguments.enumerated() {
        if arg == "--redact" {
            let next = i + 1 < arguments.count ? arguments[i + 1] : ""
            out.append(Int(next) == nil ? "--redact=100" : arg)
        } else {
            out.append(arg)
        }
    }
    return out
}

/// The version printed by `sealant --version`.
enum SealantVersion {
    static let string = "0.1.0"
}

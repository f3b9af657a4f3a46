import ArgumentParser
import Foundation
import GitHistory

/// `sealant hook install | uninstall`: a git hook that scans every commit (or push).
struct HookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Install or remove the git hook that scans staged changes (or pushed commits).",
        subcommands: [Install.self, Uninstall.self]
    )

    /// Which hook.
    struct Kind: ParsableArguments {
        @Flag(name: .customLong("pre-commit"), help: "The pre-commit hook: scan staged changes (default).")
        var preCommit = false
        @Flag(name: .customLong("pre-push"), help: "The pre-push hook: scan the commits being pushed.")
        var prePush = false
        @Option(name: .customLong("repo"), help: "Repository (default: the current directory).")
        var repo: String = "."

        func validate() throws {
            if preCommit && prePush { throw ValidationError("choose --pre-commit or --pre-push") }
        }

        var name: String { prePush ? "pre-push" : "pre-commit" }

        func repository() throws -> GitRepository {
            do {
                let repository = try GitRepository(discoveringFrom: repo)
                if repository.isBare { throw CLIError("\(repository.gitDirectory): bare repository has no commits to hook") }
                return repository
            } catch let error as GitHistoryError {
                throw CLIError(error.description)
            }
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the hook; an existing hook is kept and run after it.")
        @OptionGroup var kind: Kind
        @Flag(name: .customLong("force"), help: "Rewrite a sealant hook that is already installed.")
        var force = false

        func run() throws {
            let installer = HookInstaller(repository: try kind.repository())
            let script = HookScript.text(for: kind.name, executable: HookScript.currentExecutable())
            do {
                switch try installer.install(name: kind.name, script: script, force: force) {
                case .installed(let path): print("installed \(path)")
                case .updated(let path): print("rewrote \(path)")
                case .installedChaining(let path, let chained): print("installed \(path); the existing hook moved to \(chained) and runs after sealant")
                }
            } catch let error as HookError {
                throw CLIError(error.description)
            }
        }
    }

    struct Uninstall: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the hook and restore the one it chained.")
        @OptionGroup var kind: Kind

        func run() throws {
            let installer = HookInstaller(repository: try kind.repository())
            do {
                if let restored = try installer.uninstall(name: kind.name) {
                    print("removed the sealant hook; restored the previous \(restored)")
                } else {
                    print("removed the sealant \(kind.name) hook")
                }
            } catch let error as HookError {
                throw CLIError(error.description)
            }
        }
    }
}

/// The shell scripts `sealant hook install` writes.
enum HookScript {
    /// Absolute path of the running binary, so the hook works without PATH set up.
    static func currentExecutable() -> String {
        let arg0 = CommandLine.arguments.first ?? "sealant"
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return arg0
    }

    static func text(for hook: String, executable: String) -> String {
        let quoted = "'" + executable.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let scan: String
        if hook == "pre-push" {
            scan = """
            # pre-push gets "<local ref> <local sha> <remote ref> <remote sha>" lines on stdin.
            input=$(cat)
            zero=0000000000000000000000000000000000000000
            status=0
            printf '%s\\n' "$input" | while read -r local_ref local_sha remote_ref remote_sha; do
              [ -n "$local_sha" ] || continue
              [ "$local_sha" = "$zero" ] && continue   # deleting a branch pushes nothing
              if [ "$remote_sha" = "$zero" ]; then
                # A new branch: what the remote's default branch does not have yet.
                if git rev-parse --verify -q "refs/remotes/$1/HEAD" >/dev/null; then
                  "$SEALANT" scan --diff --branch "$local_sha" --since-ref "refs/remotes/$1/HEAD" || exit 1
                else
                  "$SEALANT" scan --diff --branch "$local_sha" || exit 1
                fi
              else
                "$SEALANT" scan --range "$remote_sha..$local_sha" || exit 1
              fi
            done || status=1
            [ "$status" = 0 ] || { echo "sealant: push blocked: credentials in the commits above (see how to suppress a false positive in each finding)" >&2; exit 1; }
            """
        } else {
            scan = """
            # A committed baseline (sealant baseline create) holds findings accepted earlier.
            baseline=
            [ -f \(BaselineCommand.defaultPath) ] && baseline=\(BaselineCommand.defaultPath)
            "$SEALANT" scan --staged ${baseline:+--baseline-path "$baseline"} || {
              status=$?
              [ "$status" = 1 ] && echo "sealant: commit blocked: remove the credentials above (or suppress a false positive as shown), then commit again" >&2
              exit "$status"
            }
            """
        }
        return """
        #!/bin/sh
        \(HookInstaller.marker) (\(hook))
        SEALANT=\(quoted)
        [ -x "$SEALANT" ] || SEALANT=sealant
        \(scan)
        chained="$0.sealant-chained"
        if [ -x "$chained" ]; then
          \(hook == "pre-push" ? "printf '%s\\n' \"$input\" | exec \"$chained\" \"$@\"" : "exec \"$chained\" \"$@\"")
        fi
        exit 0

        """
    }
}

/// `sealant protect`: gitleaks' name for scanning staged changes in a hook.
struct ProtectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protect",
        abstract: "Scan staged changes (same as `sealant scan --staged`).")

    @Argument(help: "Repository (default: the current directory).") var path: String = "."
    @OptionGroup var detection: DetectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        var scan = try ScanCommand.parse([path, "--staged"])
        scan.detection = detection
        scan.output = output
        try await scan.run()
    }
}

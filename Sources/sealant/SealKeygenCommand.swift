import ArgumentParser
import Foundation
import Sealing

/// `sealant keygen`: a key pair and certificate in the controller's format.
struct SealKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate a sealing key pair and self-signed certificate in the controller's format.",
        discussion: """
        Writes DIR/tls.key (PKCS#1 PEM, mode 0600) and DIR/tls.crt; with --secret-manifest also
        DIR/sealed-secrets-key.yaml, the kubernetes.io/tls Secret labelled
        sealedsecrets.bitnami.com/sealed-secrets-key=active that a controller loads (bring your own key).
        """
    )

    @Option(help: "Directory to write the files to (created if missing).")
    var out: String

    @Flag(name: .customLong("secret-manifest"), help: "Also write the controller key Secret manifest.")
    var secretManifest = false

    @Option(name: .customLong("key-size"), help: "RSA key size in bits.")
    var keySize = 4096

    @Option(name: .customLong("key-ttl"), help: "Certificate validity as a duration (h, m, s).")
    var keyTTL = "87600h"

    @Option(name: .customLong("my-cn"), help: "Certificate common name (the controller's default is empty).")
    var commonName = ""

    @Option(name: [.short, .long], help: "Namespace of the key Secret.")
    var namespace = "kube-system"

    @Option(help: "Name of the key Secret (default: sealed-secrets-key plus 5 random characters).")
    var name: String?

    @Flag(help: "Overwrite existing files.")
    var force = false

    func validate() throws {
        guard keySize >= 2048 else { throw ValidationError("--key-size must be at least 2048") }
    }

    func run() throws {
        do {
            let validity = try SealCLI.seconds(fromDuration: keyTTL)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let keyPath = (out as NSString).appendingPathComponent("tls.key")
            let certPath = (out as NSString).appendingPathComponent("tls.crt")
            let manifestPath = (out as NSString).appendingPathComponent("sealed-secrets-key.yaml")
            let targets = [keyPath, certPath] + (secretManifest ? [manifestPath] : [])
            if !force, let existing = targets.first(where: { FileManager.default.fileExists(atPath: $0) }) {
                throw SealCLI.Failure("\(existing) already exists (use --force to overwrite)")
            }
            let pair = try KeyPair.generate(bits: keySize, validity: validity, commonName: commonName)
            try AtomicFileWriter.write(try pair.privateKey.privateKeyPEM(), to: keyPath, mode: 0o600)
            try AtomicFileWriter.write(try pair.certificate.pem(), to: certPath)
            if secretManifest {
                let secretName = try name ?? ControllerKeySecret.generatedName()
                let secret = try pair.controllerSecret(name: secretName, namespace: namespace)
                try AtomicFileWriter.write(try ManifestWriter.yaml(secret.manifest()), to: manifestPath, mode: 0o600)
            }
            SealCLI.note("wrote \(targets.joined(separator: ", ")); fingerprint \(try KeyFingerprint.of(pair.privateKey))")
        } catch let error as SealCLI.Failure {
            throw error
        } catch {
            throw SealCLI.Failure(String(describing: error))
        }
    }
}

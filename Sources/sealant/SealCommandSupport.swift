import ArgumentParser
import Foundation
import Sealing

extension ManifestFormat: ExpressibleByArgument {}
extension SealingScope: ExpressibleByArgument {}

/// Input, output and certificate plumbing shared by the seal-side commands (`seal`, `unseal`,
/// `reencrypt`, `validate`, `keygen`, `cert`). No sealing logic lives here.
enum SealCLI {
    /// A one-line error for the user; never carries plaintext.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs `body`, turning every error into a one-line `Failure`.
    static func wrap<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(String(describing: error))
        }
    }

    /// Bytes of `path`, or of standard input when it is nil or `-`.
    static func read(_ path: String?) throws -> (bytes: [UInt8], source: String) {
        guard let path, path != "-" else {
            return ([UInt8](FileHandle.standardInput.readDataToEndOfFile()), "<stdin>")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure("\(path): cannot read the file")
        }
        return ([UInt8](data), path)
    }

    /// Text of `path` or standard input.
    static func readText(_ path: String?) throws -> (text: String, source: String) {
        let (bytes, source) = try read(path)
        guard let text = String(bytes: bytes, encoding: .utf8) else { throw Failure("\(source): not UTF-8 text") }
        return (text, source)
    }

    /// Writes `text` to `path` atomically (with `mode`; nil keeps an existing file's permissions), or to
    /// standard output when `path` is nil or `-`.
    static func write(_ text: String, to path: String?, mode: mode_t? = nil) throws {
        guard let path, path != "-" else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        try AtomicFileWriter.write(text, to: path, mode: mode)
    }

    /// One line to standard error.
    static func note(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The output format: `-o` if given, else from the output file's extension, else YAML.
    static func format(_ explicit: ManifestFormat?, path: String?) -> ManifestFormat {
        if let explicit { return explicit }
        if let path, path.lowercased().hasSuffix(".json") { return .json }
        return .yaml
    }

    /// The certificate to seal with, from `--cert` or `--controller`.
    static func certificate(cert: String?, controller: String?) async throws -> SealingCertificate {
        if let cert {
            return try await CertificateSource.load(cert)
        }
        if let controller {
            let client = try ControllerClient(string: controller)
            let pem = try await client.certificatePEM()
            return try SealingCertificate(pem: pem, source: "\(controller)/v1/cert.pem")
        }
        throw Failure("no certificate: give --cert FILE|URL or --controller URL")
    }

    /// Parses a Go-style duration (`87600h`, `30m`, `90s`, `1h30m`) into seconds.
    static func seconds(fromDuration text: String) throws -> Int {
        var total = 0
        var number = ""
        for character in text {
            if character.isNumber {
                number.append(character)
                continue
            }
            guard let value = Int(number) else { throw Failure("invalid duration \(text): use e.g. 87600h") }
            switch character {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            default: throw Failure("invalid duration \(text): units are h, m and s")
            }
            number = ""
        }
        guard number.isEmpty, total > 0 else { throw Failure("invalid duration \(text): use e.g. 87600h") }
        return total
    }
}

import Foundation
import Testing
@testable import Sealing

/// What we seal opens with Python's `cryptography`, and what Python seals we open.
@Suite struct PythonInteropTests {
    /// Runs a script from Fixtures/sealing with python3; fails the test with a clear message when
    /// python3 or the `cryptography` package is missing.
    static func requirePythonCryptography() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import cryptography"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        do {
            try probe.run()
            probe.waitUntilExit()
        } catch {
            throw SealError("interop tests need python3 on PATH (with `pip install cryptography`): \(error)")
        }
        guard probe.terminationStatus == 0 else {
            throw SealError("interop tests need python3 with the `cryptography` package: run `pip install cryptography`")
        }
    }

    static func runPython(_ script: String, arguments: [String], input: String) throws -> String {
        try requirePythonCryptography()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestSupport.fixtures.appendingPathComponent(script).path] + arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SealError("\(script) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static let samples: [[UInt8]] = [
        [], Array("admin".utf8), Array("line1\nline2\n".utf8), Array("héllo wörld ✓".utf8),
        Array(0 ... 255), Array(repeating: 0x41, count: 5000),
    ]

    @Test(arguments: SealingScope.allCases)
    func pythonOpensWhatWeSeal(scope: SealingScope) throws {
        let pair = try TestSupport.pair()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyPath = directory.appendingPathComponent("key.pem").path
        try AtomicFileWriter.write(try pair.privateKey.privateKeyPEM(pkcs8: true), to: keyPath, mode: 0o600)
        let label = scope.label(namespace: "team-a", name: "db-credentials")
        let blobs = try Self.samples.map { try HybridCipher.sealToBase64($0, publicKey: pair.certificate.publicKey(), label: label) }
        let output = try Self.runPython("open_sealed.py", arguments: [keyPath, Self.hex(label)], input: blobs.joined(separator: "\n") + "\n")
        let opened = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { [UInt8](Data(base64Encoded: String($0)) ?? Data([0xFF])) }
        #expect(opened == Self.samples)
    }

    @Test(arguments: SealingScope.allCases)
    func weOpenWhatPythonSeals(scope: SealingScope) throws {
        let pair = try TestSupport.pair()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let certPath = directory.appendingPathComponent("cert.pem").path
        try AtomicFileWriter.write(try pair.certificate.pem(), to: certPath)
        let label = scope.label(namespace: "team-a", name: "db-credentials")
        let input = Self.samples.map { Data($0).base64EncodedString() }.joined(separator: "\n") + "\n"
        let output = try Self.runPython("seal_python.py", arguments: [certPath, Self.hex(label)], input: input)
        let blobs = output.split(separator: "\n").map(String.init)
        #expect(blobs.count == Self.samples.count)
        for (blob, expected) in zip(blobs, Self.samples) {
            #expect(try HybridCipher.open(base64: blob, keys: [pair.privateKey], label: label) == expected)
        }
    }

    @Test func pythonOpensAWholeSealedSecretWeWrote() throws {
        let pair = try TestSupport.pair()
        let secretYAML = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: app
          namespace: prod
        stringData:
          token: s3cr3t-value
        data:
          blob: AAEC
        """
        let sealed = try Documents.seal(secretYAML, source: "test", sealer: Sealer(publicKey: pair.certificate.publicKey()), options: SealOptions())
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyPath = directory.appendingPathComponent("key.pem").path
        try AtomicFileWriter.write(try pair.privateKey.privateKeyPEM(), to: keyPath, mode: 0o600)
        let names = sealed[0].encryptedData.keys.sorted()
        let output = try Self.runPython("open_sealed.py", arguments: [keyPath, Self.hex(Array("prod/app".utf8))],
                                        input: names.compactMap { sealed[0].encryptedData[$0] }.joined(separator: "\n") + "\n")
        #expect(output.split(separator: "\n").map(String.init) == [Data([0, 1, 2]).base64EncodedString(), Data("s3cr3t-value".utf8).base64EncodedString()])
    }
}

/// The controller HTTP client against a stand-in controller written in Python.
@Suite struct ControllerClientTests {
    @Test func certVerifyAndRotateAgainstAFakeController() async throws {
        try PythonInteropTests.requirePythonCryptography()
        let pair = try TestSupport.pair()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyPath = directory.appendingPathComponent("key.pem").path
        let certPath = directory.appendingPathComponent("cert.pem").path
        try AtomicFileWriter.write(try pair.privateKey.privateKeyPEM(), to: keyPath, mode: 0o600)
        try AtomicFileWriter.write(try pair.certificate.pem(), to: certPath)
        let port = 20_000 + Int.random(in: 0 ..< 20_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestSupport.fixtures.appendingPathComponent("fake_controller.py").path, keyPath, certPath, String(port)]
        let stdout = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin // the controller exits when this closes
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            try? stdin.fileHandleForWriting.close()
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        _ = stdout.fileHandleForReading.availableData // blocks until "ready"

        let client = try ControllerClient(string: "http://127.0.0.1:\(port)")
        let pem = try await client.certificatePEM()
        let certificate = try SealingCertificate(pem: pem, source: "controller")
        #expect(certificate.publicKey.hasSamePublicKey(as: pair.privateKey))

        var secret = Secret(stringData: ["k": "v"])
        secret.metadata.name = "s"
        secret.metadata.namespace = "n"
        let sealed = try Sealer(certificate: certificate).seal(secret, options: SealOptions(scope: .namespaceWide))
        #expect(try await client.verify(sealed))
        var moved = sealed
        moved.metadata.namespace = "other"
        #expect(try await !client.verify(moved))

        let rotated = try await client.rotate(sealed)
        #expect(rotated.encryptedData["k"] != sealed.encryptedData["k"])
        #expect(rotated.scope == .namespaceWide)
        #expect(try Unsealer(keys: [pair.privateKey]).unseal(rotated).data["k"] == Array("v".utf8))
    }
}

import Foundation
import Testing
@testable import Sealing

/// Paths and shared keys for the Sealing tests.
enum TestSupport {
    /// The package root (two levels above this file's directory).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/fixtures/sealed-secrets-upstream` beside the package.
    static let upstreamFixtures: URL = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/fixtures/sealed-secrets-upstream")

    /// `Fixtures/sealing` in the package.
    static let fixtures: URL = packageRoot.appendingPathComponent("Fixtures/sealing")

    static func upstream(_ name: String) throws -> [UInt8] {
        let url = upstreamFixtures.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SealError("missing fixture \(url.path)")
        }
        return [UInt8](data)
    }

    /// The upstream fixture key.
    static func upstreamKey() throws -> RSAKey { try RSAKey.privateKey(pem: upstream("key.pem")) }

    /// One RSA-4096 key pair per test run (keygen costs about a second).
    static let sharedPair: Result<KeyPair, Error> = Result { try KeyPair.generate() }
    /// A second, unrelated key pair (for wrong-key cases).
    static let otherPair: Result<KeyPair, Error> = Result { try KeyPair.generate(bits: 2048) }

    static func pair() throws -> KeyPair { try sharedPair.get() }
    static func other() throws -> KeyPair { try otherPair.get() }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sealing-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Talks to a running controller's HTTP API (`sealant controller` or upstream's):
/// `GET /v1/cert.pem`, `POST /v1/verify`, `POST /v1/rotate`.
public struct ControllerClient: Sendable {
    /// The controller's base URL, e.g. `http://localhost:8080`.
    public let baseURL: URL

    public init(baseURL: URL) { self.baseURL = baseURL }

    /// Parses `--controller URL`.
    public init(string: String) throws {
        guard let url = URL(string: string), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
            throw KeyError.unreadable(source: string, reason: "not an http(s) URL")
        }
        baseURL = url
    }

    private func endpoint(_ path: String) -> URL {
        var text = baseURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return URL(string: text + path) ?? baseURL.appendingPathComponent(path)
    }

    /// The PEM certificate of the controller's newest key.
    public func certificatePEM() async throws -> [UInt8] {
        let url = endpoint("/v1/cert.pem")
        let (body, status) = try await HTTP.send(url)
        guard status == 200 else { throw KeyError.unreadable(source: url.absoluteString, reason: "HTTP \(status)") }
        return body
    }

    /// Whether the controller can unseal `sealed` (200 → true, 409 → false, anything else → error).
    public func verify(_ sealed: SealedSecret) async throws -> Bool {
        let url = endpoint("/v1/verify")
        let (body, status) = try await HTTP.send(url, json: ManifestWriter.compactJSON(sealed.manifest()))
        switch status {
        case 200: return true
        case 409: return false
        default: throw KeyError.unreadable(source: url.absoluteString, reason: "HTTP \(status): \(HTTP.summary(body))")
        }
    }

    /// The controller's re-sealing of `sealed` with its newest key, same scope.
    public func rotate(_ sealed: SealedSecret) async throws -> SealedSecret {
        let url = endpoint("/v1/rotate")
        let (body, status) = try await HTTP.send(url, json: ManifestWriter.compactJSON(sealed.manifest()))
        guard status == 200 else {
            throw KeyError.unreadable(source: url.absoluteString, reason: "HTTP \(status): \(HTTP.summary(body))")
        }
        let text = String(decoding: body, as: UTF8.self)
        guard var value = try ManifestReader.documents(in: text, source: url.absoluteString).first?.object else {
            throw KeyError.unreadable(source: url.absoluteString, reason: "empty response")
        }
        // The rotate endpoint answers without kind/apiVersion.
        if value["kind"] == nil { value["kind"] = .string(SealedSecret.kind) }
        if value["apiVersion"] == nil { value["apiVersion"] = .string(SealedSecret.apiVersion) }
        return try SealedSecret(manifest: .object(value), source: url.absoluteString)
    }
}

/// Where `--cert` points: a local file, `file://` or `http(s)://` URL.
public enum CertificateSource {
    /// Loads and checks the sealing certificate.
    public static func load(_ location: String, now: Date = Date()) async throws -> SealingCertificate {
        let lowered = location.lowercased()
        let pem: [UInt8]
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            guard let url = URL(string: location) else { throw KeyError.unreadable(source: location, reason: "invalid URL") }
            let (body, status) = try await HTTP.send(url)
            guard status == 200 else { throw KeyError.unreadable(source: location, reason: "HTTP \(status)") }
            pem = body
        } else {
            let path = lowered.hasPrefix("file://") ? (URL(string: location)?.path ?? String(location.dropFirst(7))) : location
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KeyError.unreadable(source: location, reason: "cannot read the certificate file")
            }
            pem = [UInt8](data)
        }
        return try SealingCertificate(pem: pem, source: location, now: now)
    }
}

/// Minimal HTTP over AsyncHTTPClient (the controller's client too; FoundationNetworking's URLSession
/// would link libcurl and its ~30 shared libraries into every `sealant` start, pre-commit hooks included).
enum HTTP {
    /// Largest response body read (a certificate or one SealedSecret).
    static let maxBody = 16 << 20

    /// GET `url`, or POST `json` to it; the body and status code.
    static func send(_ url: URL, json: String? = nil) async throws -> ([UInt8], Int) {
        let source = url.absoluteString
        var request = HTTPClientRequest(url: source)
        if let json {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: maxBody)
            return (Array(body.readableBytesView), Int(response.status.code))
        } catch {
            throw KeyError.unreadable(source: source, reason: "request failed: \(error)")
        }
    }

    /// The first line of a response body, for error messages.
    static func summary(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }
}

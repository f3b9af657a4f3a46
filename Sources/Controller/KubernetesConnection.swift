import Foundation
import NIOSSL
import Sealing

/// How to reach and authenticate to the Kubernetes API: from a kubeconfig file or the in-cluster service account.
public struct KubernetesConnection: Sendable, Equatable {
    /// API server base URL, e.g. `https://10.0.0.1:443` (plain `http://` is accepted for local test servers).
    public var server: String
    /// PEM of the CA that signs the API server's certificate; nil means the system trust store.
    public var certificateAuthorityPEM: [UInt8]?
    /// Skip server certificate verification (`insecure-skip-tls-verify`).
    public var insecureSkipTLSVerify = false
    /// A bearer token.
    public var token: String?
    /// A file holding the bearer token, read on every request (service account tokens are rotated).
    public var tokenFile: String?
    /// PEM client certificate (chain) for mutual TLS.
    public var clientCertificatePEM: [UInt8]?
    /// PEM private key of the client certificate.
    public var clientKeyPEM: [UInt8]?
    /// The namespace the configuration points at (context namespace or the service account's).
    public var namespace: String?
    /// Where this came from, for messages.
    public var source: String

    public init(server: String, source: String) {
        self.server = server
        self.source = source
    }

    /// The service account directory mounted into pods.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Whether the process runs in a pod (the API server's address is in the environment).
    public static func isInCluster(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        !(environment["KUBERNETES_SERVICE_HOST"] ?? "").isEmpty && !(environment["KUBERNETES_SERVICE_PORT"] ?? "").isEmpty
    }

    /// The in-cluster configuration: `KUBERNETES_SERVICE_HOST/PORT`, the service account token, CA and namespace.
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 directory: String = serviceAccountDirectory) throws -> KubernetesConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw ControllerError.kubeconfig(source: "in-cluster", reason: "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var connection = KubernetesConnection(server: "https://\(hostPart):\(port)", source: "in-cluster service account")
        let tokenPath = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw ControllerError.kubeconfig(source: tokenPath, reason: "the service account token is not readable")
        }
        connection.tokenFile = tokenPath
        guard let ca = FileManager.default.contents(atPath: directory + "/ca.crt") else {
            throw ControllerError.kubeconfig(source: directory + "/ca.crt", reason: "the service account CA is not readable")
        }
        connection.certificateAuthorityPEM = [UInt8](ca)
        if let namespace = FileManager.default.contents(atPath: directory + "/namespace") {
            connection.namespace = String(decoding: namespace, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return connection
    }

    /// Reads a kubeconfig file: the given context or `current-context`, its cluster (server, CA file or data,
    /// insecure-skip-tls-verify) and user (token, tokenFile, client certificate and key, as files or data).
    public static func kubeconfig(path: String, context requested: String? = nil) throws -> KubernetesConnection {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ControllerError.kubeconfig(source: path, reason: "cannot read the file")
        }
        return try kubeconfig(text: String(decoding: data, as: UTF8.self), path: path, context: requested)
    }

    /// Parses kubeconfig text; relative file names are resolved against the file's directory.
    public static func kubeconfig(text: String, path: String, context requested: String? = nil) throws -> KubernetesConnection {
        func fail(_ reason: String) -> ControllerError { .kubeconfig(source: path, reason: reason) }
        let documents: [ManifestValue]
        do {
            documents = try ManifestReader.documents(in: text, source: path)
        } catch {
            throw fail("not a readable kubeconfig: \(error)")
        }
        guard let root = documents.first?.object else { throw fail("empty kubeconfig") }
        let directory = (path as NSString).deletingLastPathComponent
        func named(_ list: String, _ name: String, _ field: String) throws -> ManifestObject {
            guard case .array(let entries)? = root[list],
                  let entry = entries.compactMap(\.object).first(where: { $0["name"]?.string == name }) else {
                throw fail("no \(field) named \"\(name)\" in \(list)")
            }
            return entry[field]?.object ?? ManifestObject()
        }
        guard let contextName = requested ?? root["current-context"]?.string, !contextName.isEmpty else {
            throw fail("no current-context; pass a context")
        }
        let context = try named("contexts", contextName, "context")
        guard let clusterName = context["cluster"]?.string else { throw fail("context \"\(contextName)\" names no cluster") }
        let cluster = try named("clusters", clusterName, "cluster")
        guard let server = cluster["server"]?.string, !server.isEmpty else { throw fail("cluster \"\(clusterName)\" has no server") }
        var connection = KubernetesConnection(server: server, source: path)
        connection.namespace = context["namespace"]?.string
        func resolve(_ file: String) -> String { file.hasPrefix("/") ? file : (directory as NSString).appendingPathComponent(file) }
        func bytes(_ object: ManifestObject, data dataKey: String, file fileKey: String) throws -> [UInt8]? {
            if let encoded = object[dataKey]?.string, !encoded.isEmpty {
                guard let decoded = Data(base64Encoded: encoded.filter { !$0.isWhitespace }) else { throw fail("\(dataKey) is not valid base64") }
                return [UInt8](decoded)
            }
            if let file = object[fileKey]?.string, !file.isEmpty {
                guard let contents = FileManager.default.contents(atPath: resolve(file)) else { throw fail("cannot read \(fileKey) \(file)") }
                return [UInt8](contents)
            }
            return nil
        }
        connection.certificateAuthorityPEM = try bytes(cluster, data: "certificate-authority-data", file: "certificate-authority")
        if case .bool(let flag)? = cluster["insecure-skip-tls-verify"] { connection.insecureSkipTLSVerify = flag }
        if let userName = context["user"]?.string, !userName.isEmpty {
            let user = try named("users", userName, "user")
            if user["exec"] != nil || user["auth-provider"] != nil {
                throw fail("user \"\(userName)\" uses an exec or auth-provider credential plugin, which sealant does not run; use a token or client certificate")
            }
            connection.token = user["token"]?.string
            connection.tokenFile = user["tokenFile"]?.string.map(resolve)
            connection.clientCertificatePEM = try bytes(user, data: "client-certificate-data", file: "client-certificate")
            connection.clientKeyPEM = try bytes(user, data: "client-key-data", file: "client-key")
            if (connection.clientCertificatePEM == nil) != (connection.clientKeyPEM == nil) {
                throw fail("user \"\(userName)\" needs both a client certificate and a client key")
            }
        }
        return connection
    }

    /// The bearer token to send now (the token file is re-read so rotated tokens are used).
    public func bearerToken() throws -> String? {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw ControllerError.kubeconfig(source: tokenFile, reason: "cannot read the token file")
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return token
    }

    /// The TLS client configuration: CA trust roots, client certificate and key, or no verification.
    public func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = certificateAuthorityPEM {
                let roots = try NIOSSLCertificate.fromPEMBytes(ca)
                guard !roots.isEmpty else { throw ControllerError.kubeconfig(source: source, reason: "the CA holds no PEM certificate") }
                tls.trustRoots = .certificates(roots)
            }
            if let certificate = clientCertificatePEM, let key = clientKeyPEM {
                let chain = try NIOSSLCertificate.fromPEMBytes(certificate)
                guard !chain.isEmpty else { throw ControllerError.kubeconfig(source: source, reason: "the client certificate holds no PEM certificate") }
                tls.certificateChain = chain.map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch let error as ControllerError {
            throw error
        } catch {
            throw ControllerError.kubeconfig(source: source, reason: "TLS material is unreadable: \(error)")
        }
        if insecureSkipTLSVerify { tls.certificateVerification = .none }
        return tls
    }
}

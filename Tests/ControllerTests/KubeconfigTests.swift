import Foundation
import Sealing
import Testing
@testable import Controller

@Suite("Kubeconfig, in-cluster configuration and TLS material")
struct KubeconfigTests {
    /// A self-signed certificate and key (stand-ins for a cluster CA and a client certificate).
    static func material() throws -> (certificate: String, key: String) {
        let pair = try KeyPair.generate(bits: 2048, validity: 3600, commonName: "test")
        return (try pair.certificate.pem(), try pair.privateKey.privateKeyPEM())
    }

    @Test func inlineDataAndTokenFromTheCurrentContext() throws {
        let (certificate, key) = try Self.material()
        let b64 = { (text: String) in Data(text.utf8).base64EncodedString() }
        let text = """
        apiVersion: v1
        kind: Config
        current-context: prod
        clusters:
        - name: c1
          cluster:
            server: https://10.0.0.1:6443
            certificate-authority-data: \(b64(certificate))
        - name: c2
          cluster:
            server: https://other:443
            insecure-skip-tls-verify: true
        users:
        - name: admin
          user:
            client-certificate-data: \(b64(certificate))
            client-key-data: \(b64(key))
        - name: robot
          user:
            token: abc.def
        contexts:
        - name: prod
          context: {cluster: c1, user: admin, namespace: ops}
        - name: other
          context: {cluster: c2, user: robot}
        """
        let prod = try KubernetesConnection.kubeconfig(text: text, path: "/tmp/kubeconfig")
        #expect(prod.server == "https://10.0.0.1:6443")
        #expect(prod.namespace == "ops")
        #expect(prod.certificateAuthorityPEM == Array(certificate.utf8))
        #expect(prod.clientKeyPEM == Array(key.utf8))
        let tls = try prod.tlsConfiguration()
        #expect(tls.certificateChain.count == 1)
        #expect(tls.privateKey != nil)
        #expect(tls.certificateVerification == .fullVerification)

        let other = try KubernetesConnection.kubeconfig(text: text, path: "/tmp/kubeconfig", context: "other")
        #expect(other.server == "https://other:443")
        #expect(try other.bearerToken() == "abc.def")
        #expect(other.insecureSkipTLSVerify)
        #expect(try other.tlsConfiguration().certificateVerification == .none)
    }

    @Test func filesAreResolvedNextToTheKubeconfig() throws {
        let (certificate, key) = try Self.material()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try certificate.write(toFile: directory + "/ca.crt", atomically: true, encoding: .utf8)
        try certificate.write(toFile: directory + "/client.crt", atomically: true, encoding: .utf8)
        try key.write(toFile: directory + "/client.key", atomically: true, encoding: .utf8)
        try "  rotated-token\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        try """
        current-context: x
        clusters: [{name: c, cluster: {server: "https://api:6443", certificate-authority: ca.crt}}]
        users: [{name: u, user: {client-certificate: client.crt, client-key: \(directory)/client.key, tokenFile: token}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        """.write(toFile: directory + "/config", atomically: true, encoding: .utf8)
        let connection = try KubernetesConnection.kubeconfig(path: directory + "/config")
        #expect(connection.certificateAuthorityPEM == Array(certificate.utf8))
        #expect(try connection.bearerToken() == "rotated-token")
        _ = try connection.tlsConfiguration()
    }

    @Test func unusableKubeconfigsNameTheProblem() throws {
        let cases: [(String, String)] = [
            ("clusters: []", "current-context"),
            ("current-context: a\ncontexts: []", "no context named \"a\""),
            ("current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: https://x}}]\nusers: [{name: u, user: {exec: {command: aws}}}]", "exec"),
            ("current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: https://x, certificate-authority-data: '!!!'}}]", "base64"),
        ]
        for (text, fragment) in cases {
            do {
                _ = try KubernetesConnection.kubeconfig(text: text, path: "/k")
                Issue.record("accepted: \(text)")
            } catch let error as ControllerError {
                #expect(error.description.contains(fragment), "\(error)")
                #expect(error.description.hasPrefix("/k:"))
            }
        }
        var garbage = KubernetesConnection(server: "https://x", source: "test")
        garbage.certificateAuthorityPEM = Array("not a certificate".utf8)
        #expect(throws: ControllerError.self) { try garbage.tlsConfiguration() }
    }

    @Test func inClusterServiceAccount() throws {
        let (certificate, _) = try Self.material()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "sa-token".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        try certificate.write(toFile: directory + "/ca.crt", atomically: true, encoding: .utf8)
        try "kube-system\n".write(toFile: directory + "/namespace", atomically: true, encoding: .utf8)
        let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        #expect(KubernetesConnection.isInCluster(environment: environment))
        #expect(!KubernetesConnection.isInCluster(environment: [:]))
        let connection = try KubernetesConnection.inCluster(environment: environment, directory: directory)
        #expect(connection.server == "https://10.96.0.1:443")
        #expect(connection.namespace == "kube-system")
        #expect(try connection.bearerToken() == "sa-token")
        _ = try connection.tlsConfiguration()
        let v6 = try KubernetesConnection.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], directory: directory)
        #expect(v6.server == "https://[fd00::1]:443")
        #expect(throws: ControllerError.self) { try KubernetesConnection.inCluster(environment: environment, directory: directory + "/missing") }
    }
}

import Foundation
import Testing
import Rules
@testable import Detection

/// The structural Kubernetes checks (`analyzer = ...` rules), driven through the scanner.
@Suite("Kubernetes manifest analyzers")
struct ManifestAnalyzerTests {
    static let rules = """
    [[rules]]
    id = "k8s-secret"
    analyzer = "kubernetes-secret"
    path = '''(?i)\\.(?:ya?ml|json)$'''
    [[rules]]
    id = "k8s-configmap"
    analyzer = "kubernetes-configmap"
    path = '''(?i)\\.(?:ya?ml|json)$'''
    [[rules]]
    id = "k8s-env"
    analyzer = "kubernetes-env"
    path = '''(?i)\\.(?:ya?ml|json)$'''
    [[rules]]
    id = "kustomize"
    analyzer = "kustomize-secret-literal"
    path = '''(?i)kustomization\\.ya?ml$'''
    [[rules]]
    id = "unsealed"
    analyzer = "sealedsecret-unsealed-value"
    path = '''(?i)\\.(?:ya?ml|json)$'''
    """

    static func scan(_ text: String, path: String = "deploy/app.yaml") throws -> [Finding] {
        try makeDetector(Self.rules, options: DetectorOptions(maxDecodeDepth: 0)).makeScanner().scan(text, path: path)
    }

    static func value() -> String { highEntropyBase62(24) }

    @Test("every data and stringData value of a Secret is reported at its line, secret = the value")
    func secretManifest() throws {
        let a = Self.value(), b = Self.value(), c = Self.value()
        let text = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: db
        type: Opaque
        data:
          password: \(Encode.base64(a))
          user: "\(b)"
        stringData:
          token: '\(c)'
          empty: ""
          templated: {{ .Values.token }}
          env: ${TOKEN}
        """
        let found = try Self.scan(text).filter { $0.ruleID == "k8s-secret" }
        #expect(found.map(\.secret) == [Encode.base64(a), b, c])
        #expect(found.map(\.startLine) == [7, 8, 10])
        #expect(found.first?.startColumn == 3)
        #expect(found.first?.match == "password: \(Encode.base64(a))")
    }

    @Test("documents are split at ---; only Secret documents report their data")
    func multiDocument() throws {
        let v = Self.value()
        let text = """
        kind: ConfigMap
        data:
          color: blue
        ---
        kind: Secret
        data:
          key: \(v)
        ---
        kind: Service
        data:
          other: \(Self.value())
        """
        #expect(try Self.scan(text).map(\.secret) == [v])
    }

    @Test("analyzer rules only run on matching paths")
    func pathGate() throws {
        let text = "kind: Secret\nstringData:\n  token: \(Self.value())\n"
        #expect(try Self.scan(text, path: "deploy/secret.yaml").count == 1)
        #expect(try Self.scan(text, path: "notes/secret.txt").isEmpty)
    }

    @Test("SealedSecret values: real ciphertext passes, plain or merely base64'd values are reported")
    func sealedSecret() throws {
        var sealed = [UInt8(1), 0]
        sealed += (0..<(256 + 16 + 64)).map { _ in UInt8.random(in: 0...255) }
        let plain = Self.value()
        let text = """
        apiVersion: bitnami.com/v1alpha1
        kind: SealedSecret
        spec:
          encryptedData:
            sealed: \(Data(sealed).base64EncodedString())
            plain: \(plain)
        """
        let found = try Self.scan(text)
        #expect(found.map(\.ruleID) == ["unsealed"])
        #expect(found.map(\.secret) == [plain])
    }

    @Test("ConfigMap entries with credential-like keys and env values with credential-like names")
    func configMapAndEnv() throws {
        let pw = Self.value(), token = Self.value()
        let text = """
        kind: ConfigMap
        data:
          DB_PASSWORD: \(pw)
          LOG_LEVEL: debug
        ---
        kind: Deployment
        spec:
          template:
            spec:
              containers:
                - name: app
                  env:
                    - name: API_TOKEN
                      value: "\(token)"
                    - name: DB_PASSWORD
                      valueFrom:
                        secretKeyRef:
                          name: db
                          key: password
                    - name: MODE
                      value: fast
        """
        let found = try Self.scan(text)
        #expect(Set(found.map { "\($0.ruleID)=\($0.secret)" }) == ["k8s-configmap=\(pw)", "k8s-env=\(token)"])
    }

    @Test("kustomize secretGenerator literals")
    func kustomize() throws {
        let v = Self.value()
        let text = """
        secretGenerator:
          - name: app
            literals:
              - DB_PASSWORD=\(v)
              - "API_KEY=\(v)x"
            envs:
              - secrets.env
        """
        let found = try Self.scan(text, path: "overlays/prod/kustomization.yaml")
        #expect(found.map(\.secret) == [v, v + "x"])
    }

    @Test("analyzer findings go through allowlists and inline allow like regex findings")
    func analyzerFilters() throws {
        let v = Self.value()
        let text = "kind: Secret\nstringData:\n  token: \(v)  # sealant:allow\n  other: \(Self.value())\n"
        #expect(try Self.scan(text).count == 1)
        let allowlisted = Self.rules + "\n[[allowlists]]\nstopwords = [\"\(v.prefix(10).lowercased())\"]\n"
        let found = try makeDetector(allowlisted).makeScanner().scan("kind: Secret\nstringData:\n  token: \(v)\n", path: "a.yaml")
        #expect(found.isEmpty)
    }

    @Test("KNOWN ISSUE: a JSON Secret manifest (the rules' path accepts .json) is not analysed")
    func jsonManifest() throws {
        let v = Self.value()
        let text = #"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"token": "\#(v)"}}"#
        let found = try Self.scan(text, path: "deploy/secret.json")
        withKnownIssue("ManifestAnalyzer reads YAML lines; JSON manifests are not parsed") {
            #expect(found.map(\.secret) == [v])
        }
    }

    @Test("KNOWN ISSUE: credential-looking key names that are not credentials are reported from ConfigMaps")
    func configMapLookAlikeKeys() throws {
        let text = """
        kind: ConfigMap
        data:
          tokenizer_model: bert-base-uncased
          password_min_length: "12"
          secret_name: db-credentials
        """
        let found = try Self.scan(text)
        withKnownIssue("the key regex matches substrings (token, secret, pass...) with no entropy filter") {
            #expect(found.isEmpty, "\(found.map(\.match))")
        }
    }
}

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
    [[rules]]
    id = "helm"
    analyzer = "helm-values"
    path = '''(?i)(?:^|/)values[\\w.-]*\\.ya?ml$'''
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

    /// Line and column (1-based) of the first occurrence of `needle` in `text`.
    static func position(of needle: String, in text: String) -> (line: Int, column: Int) {
        guard let range = text.range(of: needle) else { return (0, 0) }
        let before = text[..<range.lowerBound]
        let line = before.filter { $0 == "\n" }.count + 1
        let column = before.count - (before.lastIndex(of: "\n").map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0) + 1
        return (line, column)
    }

    @Test("a JSON Secret: every data/stringData value at its real line and column; the span is the key/value pair")
    func jsonSecret() throws {
        let a = Self.value(), b = Self.value()
        let text = """
        {
          "apiVersion": "v1",
          "kind": "Secret",
          "metadata": {"name": "db", "namespace": "prod"},
          "data": {
            "password": "\(Encode.base64(a))"
          },
          "stringData": {"token": "\(b)", "templated": "{{ .Values.t }}", "empty": ""}
        }
        """
        let found = try Self.scan(text, path: "deploy/secret.json")
        #expect(found.map(\.ruleID) == ["k8s-secret", "k8s-secret"])
        #expect(found.map(\.secret) == [Encode.base64(a), b])
        let first = Self.position(of: "\"password\"", in: text), second = Self.position(of: "\"token\"", in: text)
        #expect(found.map(\.startLine) == [first.line, second.line])
        #expect(found.map(\.startColumn) == [first.column, second.column])
        #expect(found.first?.match == "\"password\": \"\(Encode.base64(a))\"")
        #expect(found.last?.match == "\"token\": \"\(b)\"")
    }

    @Test("JSON: kind List items, arrays of objects, SealedSecrets, ConfigMaps and container env")
    func jsonShapes() throws {
        let s1 = Self.value(), s2 = Self.value(), cm = Self.value(), env = Self.value(), unsealed = Self.value()
        var sealed = [UInt8(1), 0]
        sealed += (0..<(256 + 16 + 64)).map { _ in UInt8.random(in: 0...255) }
        let list = """
        {"apiVersion": "v1", "kind": "List", "items": [
          {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
           "data": {"DB_PASSWORD": "\(cm)", "password_min_length": "8", "secret_name": "my-secret"}},
          {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "\(s1)"}},
          {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "x"},
           "spec": {"encryptedData": {"ok": "\(Data(sealed).base64EncodedString())", "bad": "\(unsealed)"}}}
        ]}
        """
        let found = try Self.scan(list, path: "all.json")
        #expect(found.map { "\($0.ruleID)=\($0.secret)" } == ["k8s-configmap=\(cm)", "k8s-secret=\(s1)", "unsealed=\(unsealed)"])
        #expect(found.map(\.startLine) == [3, 4, 6])

        let array = """
        [
          {"kind": "Secret", "metadata": {"name": "a"}, "stringData": {"x": "\(s2)"}},
          {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "app", "env": [
            {"name": "API_TOKEN", "value": "\(env)"},
            {"name": "TOKEN_TTL", "value": "3600"},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
          ]}]}}}}
        ]
        """
        let fromArray = try Self.scan(array, path: "all.json")
        #expect(fromArray.map { "\($0.ruleID)=\($0.secret)" } == ["k8s-secret=\(s2)", "k8s-env=\(env)"])
        #expect(fromArray.map(\.startLine) == [2, 4])
    }

    @Test("JSON that is not a manifest, or not JSON at all, reports nothing")
    func jsonNonManifests() throws {
        let v = Self.value()
        #expect(try Self.scan(#"{"name": "pkg", "scripts": {"password": "\#(v)"}}"#, path: "package.json").isEmpty)
        #expect(try Self.scan(#"{"kind": "Secret", "stringData": {"a": "\#(v)"}"#, path: "broken.json").isEmpty)
        #expect(try Self.scan(#"[1, 2, {"kind": "Secret"}]"#, path: "x.json").isEmpty)
        // A byte order mark does not hide a manifest.
        #expect(try Self.scan("\u{FEFF}" + #"{"kind": "Secret", "stringData": {"a": "\#(v)"}}"#, path: "bom.json").map(\.secret) == [v])
    }

    @Test("a base64'd provider key in a JSON Secret is reported as that provider's key at the value's line")
    func jsonDecodedValue() throws {
        let rules = Self.rules + """

        [[rules]]
        id = "fake-provider"
        regex = '''\\b(fpk_[A-Za-z0-9]{24})\\b'''
        keywords = ["fpk_"]
        """
        let key = "fpk_" + highEntropyBase62(24)
        let text = "{\n  \"kind\": \"Secret\",\n  \"metadata\": {\"name\": \"p\"},\n  \"data\": {\n    \"key\": \"\(Encode.base64(key))\"\n  }\n}\n"
        let found = try makeDetector(rules).makeScanner().scan(text, path: "p.json")
        #expect(Set(found.map(\.ruleID)) == ["k8s-secret", "fake-provider"])
        #expect(found.first { $0.ruleID == "fake-provider" }?.secret == key)
        #expect(found.allSatisfy { $0.startLine == 5 })
    }

    @Test("ConfigMap and env: qualifier keys and non-credential values are not reported")
    func configMapLookAlikes() throws {
        let text = """
        kind: ConfigMap
        data:
          tokenizer_model: bert-base-uncased
          password_min_length: "8"
          PASSWORD_MIN_LENGTH: "12"
          token_ttl: 3600
          tokenTTL: 1h30m
          enable_auth_token: "true"
          secret_name: my-secret
          secretName: db-credentials
          password_file: /etc/x
          PASSWORD_PATH: ./secrets/pw
          auth_url: https://auth.example.internal/oauth/token
          db_password: "8"
          api_key: "true"
          client_secret: 30s
          db_password_ref: other-secret
          existingSecret: postgres-auth
          api_token: disabled
          service_token: https://vault.internal:8200/v1/token
          session_secret: my-app.prod.svc
        ---
        kind: Deployment
        spec:
          template:
            spec:
              containers:
                - name: app
                  env:
                    - name: TOKEN_TTL
                      value: "3600"
                    - name: PASSWORD_FILE
                      value: /run/secrets/db
                    - name: ENABLE_AUTH_TOKEN
                      value: "true"
                    - name: DB_SECRET_NAME
                      value: db-secret
                    - name: DB_PASSWORD
                      value: "12345"
        """
        let found = try Self.scan(text)
        #expect(found.isEmpty, "\(found.map(\.match))")
    }

    @Test("ConfigMap and env: real-looking credentials under subject keys are reported")
    func configMapPositives() throws {
        let values = (0..<7).map { _ in Self.value() }
        let text = """
        kind: ConfigMap
        data:
          db_password: \(values[0])
          apiKey: "\(values[1])"
          client-secret: '\(values[2])'
          DATABASE_URL_PASSWORD: hunter2-but-longer
          GITHUB_TOKEN: \(values[3])
          SECRET_KEY_BASE: \(values[4])
          connectionString: Server=db;User Id=app;Password=\(values[5]);
          redis_dsn: redis://app:\(values[6])@redis:6379/0
        ---
        kind: Pod
        spec:
          containers:
          - name: x
            env:
            - name: STRIPE_API_KEY
              value: \(values[0])x
        """
        let found = try Self.scan(text)
        #expect(found.map(\.ruleID) == Array(repeating: "k8s-configmap", count: 8) + ["k8s-env"])
        #expect(found.map(\.secret).first == values[0])
    }

    @Test("credential key words: the credential is the subject, not a qualifier")
    func credentialKeys() {
        for key in ["db_password", "apiKey", "client-secret", "PASSWORD", "GITHUB_TOKEN", "postgresql.auth.password",
                    "SECRET_KEY_BASE", "signingKey", "APIKey", "redis-pass", "aws_secret_access_key", "connection_string", "jwtSecret2"] {
            #expect(CredentialHeuristics.isCredentialKey(key), "\(key)")
        }
        for key in ["password_min_length", "token_ttl", "enable_auth_token", "secret_name", "password_file", "passwordPath",
                    "tokenizer", "bypass", "secretKeyRef", "adminPasswordKey", "existingSecretName", "max_tokens", "key", "monkey"] {
            #expect(!CredentialHeuristics.isCredentialKey(key), "\(key)")
        }
    }

    @Test("Helm values: credentials at any depth are reported once, with false-positive care")
    func helmValues() throws {
        let pw = Self.value(), key = Self.value()
        let text = """
        # Default values for app.
        image:
          repository: nginx
          tag: "1.25"
        postgresql:
          auth:
            username: app
            password: "\(pw)"
            existingSecret: db-credentials
            passwordMinLength: 12
            rootPassword: "{{ .Values.global.root }}"
        extraEnv:
          - name: API_KEY
            value: \(key)
          - name: TOKEN_TTL
            value: "60"
        """
        let found = try Self.scan(text, path: "charts/app/values.yaml")
        #expect(found.map(\.ruleID) == ["helm", "helm"])
        #expect(Set(found.map(\.secret)) == [pw, key])
        #expect(found.first { $0.secret == pw }?.startLine == 8)
        // The same text in another YAML file is not a values file.
        #expect(try Self.scan(text, path: "deploy/app.yaml").isEmpty)
        // A manifest named values.yaml is read as a manifest.
        let manifest = "kind: Secret\nstringData:\n  token: \(pw)\n"
        #expect(try Self.scan(manifest, path: "values.yaml").map(\.ruleID) == ["k8s-secret"])
    }

    @Test("YAML kind: List: each item is analysed as its own object, at its real lines")
    func yamlList() throws {
        let secret = Self.value(), cm = Self.value()
        let text = """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          data:
            color: blue
            api_key: \(cm)
        # a comment between items
        - kind: Secret
          metadata:
            name: s
          stringData:
            token: \(secret)
        metadata:
          resourceVersion: ""
        """
        let found = try Self.scan(text)
        #expect(found.map { "\($0.ruleID)=\($0.secret)@\($0.startLine)" } == ["k8s-configmap=\(cm)@8", "k8s-secret=\(secret)@14"])
        let indented = text.replacingOccurrences(of: "\n- ", with: "\n  - ").replacingOccurrences(of: "\n  ", with: "\n    ")
            .replacingOccurrences(of: "\n    - ", with: "\n  - ").replacingOccurrences(of: "\n    resourceVersion", with: "\n  resourceVersion")
        #expect(try Self.scan(indented).map(\.secret) == [cm, secret], "\(indented)")
    }
}

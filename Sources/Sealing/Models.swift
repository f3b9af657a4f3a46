import Foundation

/// Kubernetes object metadata, every field kept (unknown ones too), with typed access to the common ones.
public struct ObjectMeta: Sendable, Equatable {
    /// All fields as read.
    public var fields: ManifestObject

    public init(_ fields: ManifestObject = ManifestObject()) { self.fields = fields }

    public var name: String {
        get { fields["name"]?.string ?? "" }
        set { fields["name"] = newValue.isEmpty ? nil : .string(newValue) }
    }

    public var namespace: String {
        get { fields["namespace"]?.string ?? "" }
        set { fields["namespace"] = newValue.isEmpty ? nil : .string(newValue) }
    }

    public var annotations: [String: String] {
        get { ObjectMeta.stringMap(fields["annotations"]) }
        set { fields["annotations"] = newValue.isEmpty ? nil : .object(ManifestObject(sortedStrings: newValue)) }
    }

    public var labels: [String: String] {
        get { ObjectMeta.stringMap(fields["labels"]) }
        set { fields["labels"] = newValue.isEmpty ? nil : .object(ManifestObject(sortedStrings: newValue)) }
    }

    /// `namespace/name` for messages.
    public var displayName: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    static func stringMap(_ value: ManifestValue?) -> [String: String] {
        guard let object = value?.object else { return [:] }
        var map: [String: String] = [:]
        for field in object.fields {
            switch field.value {
            case .string(let text): map[field.key] = text
            case .number(let text): map[field.key] = text
            case .bool(let flag): map[field.key] = flag ? "true" : "false"
            default: continue
            }
        }
        return map
    }

    /// Fields the API server sets; never part of what a user seals.
    static let serverSideFields = ["uid", "resourceVersion", "selfLink", "generation", "creationTimestamp",
                                   "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"]
    /// Annotations that can carry a whole earlier manifest, plaintext included (upstream #227).
    static let lastAppliedAnnotations = ["kubectl.kubernetes.io/last-applied-configuration",
                                         "kubecfg.ksonnet.io/last-applied-configuration"]

    /// A copy safe to put in a SealedSecret template: server-side fields, last-applied annotations and
    /// ownerReferences removed.
    public func strippedForSealing() -> ObjectMeta {
        var copy = self
        for field in ObjectMeta.serverSideFields { copy.fields[field] = nil }
        copy.fields["ownerReferences"] = nil
        if copy.fields["annotations"]?.object != nil {
            var annotations = copy.annotations
            for key in ObjectMeta.lastAppliedAnnotations { annotations[key] = nil }
            copy.annotations = annotations
        }
        return copy
    }

    /// The fields in Go's `ObjectMeta` struct order (what kubeseal's JSON shows), unknown ones after, sorted.
    public func goOrdered() -> ManifestObject {
        let order = ["name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
                     "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
                     "ownerReferences", "finalizers", "managedFields"]
        var result = ManifestObject()
        for key in order { if let value = fields[key] { result[key] = ObjectMeta.sortedIfMap(key, value) } }
        for field in fields.fields.filter({ !order.contains($0.key) }).sorted(by: { $0.key < $1.key }) {
            result[field.key] = field.value
        }
        return result
    }

    private static func sortedIfMap(_ key: String, _ value: ManifestValue) -> ManifestValue {
        guard key == "labels" || key == "annotations", let object = value.object else { return value }
        return .object(ManifestObject(object.fields.sorted { $0.key < $1.key }))
    }
}

/// A Kubernetes `v1` Secret: values held as bytes (`data`, decoded) and as text (`stringData`).
public struct Secret: Sendable, Equatable {
    public var metadata: ObjectMeta
    public var type: String?
    public var immutable: Bool?
    /// `data`, base64-decoded.
    public var data: [String: [UInt8]]
    /// `stringData`, as written.
    public var stringData: [String: String]

    public init(metadata: ObjectMeta = ObjectMeta(), type: String? = nil, immutable: Bool? = nil,
                data: [String: [UInt8]] = [:], stringData: [String: String] = [:]) {
        self.metadata = metadata
        self.type = type
        self.immutable = immutable
        self.data = data
        self.stringData = stringData
    }

    /// Whether a manifest value is a `kind: Secret` of the core API group.
    public static func isSecret(_ value: ManifestValue) -> Bool {
        guard let object = value.object, object["kind"]?.string == "Secret" else { return false }
        let apiVersion = object["apiVersion"]?.string ?? "v1"
        return apiVersion == "v1"
    }

    /// Reads a Secret manifest. Messages name `source` and never quote values.
    public init(manifest value: ManifestValue, source: String, document: Int? = nil) throws {
        func fail(_ message: String) -> ManifestError { ManifestError(source: source, document: document, message) }
        guard let object = value.object else { throw fail("expected a Secret object") }
        guard object["kind"]?.string == "Secret" else {
            throw fail("expected kind Secret, found \(object["kind"]?.string ?? "no kind")")
        }
        if let apiVersion = object["apiVersion"]?.string, apiVersion != "v1" {
            throw fail("expected apiVersion v1 for a Secret, found \(apiVersion)")
        }
        if let meta = object["metadata"], meta != .null {
            guard let metaObject = meta.object else { throw fail("metadata must be a mapping") }
            metadata = ObjectMeta(metaObject)
        } else {
            metadata = ObjectMeta()
        }
        type = object["type"]?.string
        if case .bool(let flag)? = object["immutable"] { immutable = flag } else { immutable = nil }
        data = [:]
        stringData = [:]
        if let dataValue = object["data"], dataValue != .null {
            guard let dataObject = dataValue.object else { throw fail("data must be a mapping") }
            for field in dataObject.fields {
                switch field.value {
                case .null: data[field.key] = []
                case .string(let text):
                    guard let bytes = Data(base64Encoded: text) ?? Data(base64Encoded: Self.withoutWhitespace(text)) else {
                        throw fail("data.\(field.key) of Secret \(metadata.displayName) is not valid base64")
                    }
                    data[field.key] = [UInt8](bytes)
                default: throw fail("data.\(field.key) of Secret \(metadata.displayName) must be a base64 string")
                }
            }
        }
        if let stringValue = object["stringData"], stringValue != .null {
            guard let stringObject = stringValue.object else { throw fail("stringData must be a mapping") }
            for field in stringObject.fields {
                switch field.value {
                case .string(let text): stringData[field.key] = text
                case .null: stringData[field.key] = ""
                default: throw fail("stringData.\(field.key) of Secret \(metadata.displayName) must be a string (quote it)")
                }
            }
        }
    }

    /// Base64 text with line breaks and spaces removed (as Go's decoder ignores newlines).
    static func withoutWhitespace(_ text: String) -> String {
        String(decoding: text.utf8.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }, as: UTF8.self)
    }

    /// The manifest in Go's `v1.Secret` field order: kind, apiVersion, metadata, immutable, data, stringData, type.
    public func manifest() -> ManifestValue {
        var dataObject = ManifestObject()
        for key in data.keys.sorted() { dataObject[key] = .string(Data(data[key] ?? []).base64EncodedString()) }
        return .object(ManifestObject(ordered: [
            ("kind", .string("Secret")),
            ("apiVersion", .string("v1")),
            ("metadata", .object(metadata.goOrdered())),
            ("immutable", immutable.map(ManifestValue.bool)),
            ("data", dataObject.isEmpty ? nil : .object(dataObject)),
            ("stringData", stringData.isEmpty ? nil : .object(ManifestObject(sortedStrings: stringData))),
            ("type", type.map(ManifestValue.string)),
        ]))
    }
}

/// `spec.template` of a SealedSecret: what the controller copies to the Secret besides the values.
public struct SecretTemplate: Sendable, Equatable {
    public var metadata: ObjectMeta?
    public var type: String?
    public var immutable: Bool?
    /// Go-template strings rendered over the decrypted items.
    public var data: [String: String]

    public init(metadata: ObjectMeta? = nil, type: String? = nil, immutable: Bool? = nil, data: [String: String] = [:]) {
        self.metadata = metadata
        self.type = type
        self.immutable = immutable
        self.data = data
    }
}

/// A `bitnami.com/v1alpha1` SealedSecret.
public struct SealedSecret: Sendable, Equatable {
    public static let apiVersion = "bitnami.com/v1alpha1"
    public static let kind = "SealedSecret"

    public var metadata: ObjectMeta
    public var template: SecretTemplate
    /// Item name → base64 hybrid blob.
    public var encryptedData: [String: String]
    /// Deprecated `spec.data`: one blob holding a whole `v1` Secret as JSON.
    public var legacyData: [UInt8]?
    /// `status`, kept as read.
    public var status: ManifestValue?

    public init(metadata: ObjectMeta, template: SecretTemplate = SecretTemplate(), encryptedData: [String: String] = [:],
                legacyData: [UInt8]? = nil, status: ManifestValue? = nil) {
        self.metadata = metadata
        self.template = template
        self.encryptedData = encryptedData
        self.legacyData = legacyData
        self.status = status
    }

    /// The scope its top-level annotations select (what decryption uses).
    public var scope: SealingScope { SealingScope(annotations: metadata.annotations) }

    /// The OAEP label its values are sealed under.
    public var label: [UInt8] { scope.label(namespace: metadata.namespace, name: metadata.name) }

    /// Whether a manifest value is a SealedSecret.
    public static func isSealedSecret(_ value: ManifestValue) -> Bool {
        value.object?["kind"]?.string == kind
    }

    /// Reads a SealedSecret manifest. Junk in `encryptedData` that isn't a string map is ignored, as upstream does.
    public init(manifest value: ManifestValue, source: String, document: Int? = nil) throws {
        func fail(_ message: String) -> ManifestError { ManifestError(source: source, document: document, message) }
        guard let object = value.object else { throw fail("expected a SealedSecret object") }
        guard object["kind"]?.string == SealedSecret.kind else {
            throw fail("expected kind SealedSecret, found \(object["kind"]?.string ?? "no kind")")
        }
        if let apiVersion = object["apiVersion"]?.string, apiVersion != SealedSecret.apiVersion {
            throw fail("expected apiVersion \(SealedSecret.apiVersion), found \(apiVersion)")
        }
        guard let meta = object["metadata"]?.object else { throw fail("SealedSecret has no metadata") }
        metadata = ObjectMeta(meta)
        guard !metadata.name.isEmpty else { throw fail("SealedSecret has no metadata.name") }
        let spec = object["spec"]?.object ?? ManifestObject()
        encryptedData = [:]
        if let items = spec["encryptedData"]?.object {
            for field in items.fields { if let text = field.value.string { encryptedData[field.key] = text } }
        }
        if let legacy = spec["data"]?.string, !legacy.isEmpty {
            guard let bytes = Data(base64Encoded: Secret.withoutWhitespace(legacy)) else {
                throw fail("spec.data of SealedSecret \(metadata.displayName) is not valid base64")
            }
            legacyData = [UInt8](bytes)
        } else {
            legacyData = nil
        }
        if legacyData != nil && !encryptedData.isEmpty {
            throw fail("SealedSecret \(metadata.displayName) has both spec.data and spec.encryptedData")
        }
        template = SecretTemplate()
        if let templateObject = spec["template"]?.object {
            if let templateMeta = templateObject["metadata"]?.object { template.metadata = ObjectMeta(templateMeta) }
            template.type = templateObject["type"]?.string
            if case .bool(let flag)? = templateObject["immutable"] { template.immutable = flag }
            template.data = ObjectMeta.stringMap(templateObject["data"])
        }
        status = object["status"]
    }

    /// The manifest in Go struct order (kind, apiVersion, metadata, spec{template, data, encryptedData}, status).
    public func manifest() -> ManifestValue {
        var templateObject = ManifestObject()
        if let templateMeta = template.metadata, !templateMeta.fields.isEmpty {
            templateObject["metadata"] = .object(templateMeta.goOrdered())
        }
        if let type = template.type, !type.isEmpty { templateObject["type"] = .string(type) }
        if let immutable = template.immutable { templateObject["immutable"] = .bool(immutable) }
        if !template.data.isEmpty { templateObject["data"] = .object(ManifestObject(sortedStrings: template.data)) }
        let spec = ManifestObject(ordered: [
            ("template", templateObject.isEmpty ? nil : .object(templateObject)),
            ("data", legacyData.map { .string(Data($0).base64EncodedString()) }),
            ("encryptedData", .object(ManifestObject(sortedStrings: encryptedData))),
        ])
        return .object(ManifestObject(ordered: [
            ("kind", .string(SealedSecret.kind)),
            ("apiVersion", .string(SealedSecret.apiVersion)),
            ("metadata", .object(metadata.goOrdered())),
            ("spec", .object(spec)),
            ("status", status),
        ]))
    }
}

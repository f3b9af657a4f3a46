import Foundation

/// Reading Secret and SealedSecret documents from manifest text, as the commands need them.
public enum Documents {
    /// Every Secret in `text` (YAML multi-document or concatenated JSON); anything else is an error,
    /// and so is text with no Secret at all ("no secrets found").
    public static func secrets(in text: String, source: String) throws -> [Secret] {
        let documents = try ManifestReader.documents(in: text, source: source)
        guard !documents.isEmpty else { throw ManifestError(source: source, "no secrets found") }
        return try documents.enumerated().map { index, document in
            guard Secret.isSecret(document) else {
                let kind = document.object?["kind"]?.string ?? "an object without kind"
                throw ManifestError(source: source, document: index + 1, "expected a Secret, found \(kind)")
            }
            return try Secret(manifest: document, source: source, document: index + 1)
        }
    }

    /// Every SealedSecret in `text`; a `kind: List` of them is accepted too.
    public static func sealedSecrets(in text: String, source: String) throws -> [SealedSecret] {
        let documents = try ManifestReader.documents(in: text, source: source)
        var result: [SealedSecret] = []
        for (index, document) in documents.enumerated() {
            if document.object?["kind"]?.string == "List", case .array(let items)? = document.object?["items"] {
                for item in items { result.append(try SealedSecret(manifest: item, source: source, document: index + 1)) }
            } else {
                result.append(try SealedSecret(manifest: document, source: source, document: index + 1))
            }
        }
        guard !result.isEmpty else { throw ManifestError(source: source, "no SealedSecrets found") }
        return result
    }

    /// Seals every Secret in `text`.
    public static func seal(_ text: String, source: String, sealer: Sealer, options: SealOptions) throws -> [SealedSecret] {
        try secrets(in: text, source: source).enumerated().map { index, secret in
            do {
                return try sealer.seal(secret, options: options)
            } catch let error as SealError {
                throw ManifestError(source: source, document: index + 1, error.message)
            }
        }
    }
}

/// Writes files atomically: a temporary file in the same directory (created with the final mode, so
/// secrets are never readable by others even briefly), then a rename. Nothing is left behind on error.
public enum AtomicFileWriter {
    /// - Parameter mode: the new file's permissions; nil keeps an existing file's (a sealed manifest
    ///   rewritten in place stays 0600 if it was) and uses 0644 for a new file.
    public static func write(_ bytes: [UInt8], to path: String, mode requested: mode_t? = nil) throws {
        var mode = requested ?? 0o644
        var existing = stat()
        if requested == nil, stat(path, &existing) == 0 { mode = existing.st_mode & 0o7777 }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = (directory as NSString).appendingPathComponent(".\(url.lastPathComponent).sealant-\(UUID().uuidString.prefix(8)).tmp")
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw KeyError.unreadable(source: path, reason: "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
        }
        var failure: String?
        var offset = 0
        while offset < bytes.count && failure == nil {
            let written = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = String(cString: strerror(errno))
            } else {
                offset += written
            }
        }
        if failure == nil && fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
        // Keep the mode exact regardless of the umask.
        if failure == nil && fchmod(descriptor, mode) != 0 { failure = String(cString: strerror(errno)) }
        close(descriptor)
        if failure == nil && rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw KeyError.unreadable(source: path, reason: "cannot write: \(failure)")
        }
    }

    public static func write(_ text: String, to path: String, mode: mode_t? = nil) throws {
        try write(Array(text.utf8), to: path, mode: mode)
    }
}

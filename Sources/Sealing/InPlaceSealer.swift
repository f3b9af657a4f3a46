import Foundation

/// Replaces every `kind: Secret` document in manifest files with its SealedSecret, leaving all other
/// text byte-for-byte as it was: other documents, their order, and comments outside the replaced
/// documents. Used by `sealant seal --in-place` and by the scanner's `--fix`.
public struct InPlaceSealer: Sendable {
    /// One Secret document that is (or would be) replaced.
    public struct Replacement: Sendable, Equatable {
        /// 1-based document number in the file.
        public let document: Int
        /// 1-based line where the document's text starts.
        public let line: Int
        /// `namespace/name` of the Secret.
        public let secret: String
    }

    /// What happened to one file.
    public struct FileResult: Sendable, Equatable {
        public let path: String
        public let replacements: [Replacement]
    }

    /// A file that could not be sealed; it is left untouched.
    public struct FileError: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
    }

    /// File extensions treated as manifests.
    public static let manifestExtensions: Set<String> = ["yaml", "yml", "json"]

    public let sealer: Sealer
    public let options: SealOptions

    public init(sealer: Sealer, options: SealOptions = SealOptions()) {
        self.sealer = sealer
        self.options = options
    }

    /// The manifest files at `paths`: files as given, directories walked recursively (hidden entries skipped).
    public static func manifestFiles(at paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw FileError(path: path, message: "no such file or directory")
            }
            guard isDirectory.boolValue else { files.append(path); continue }
            guard let walker = FileManager.default.enumerator(atPath: path) else { continue }
            var found: [String] = []
            while let relative = walker.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix(".") {
                    walker.skipDescendants()
                    continue
                }
                let full = (path as NSString).appendingPathComponent(relative)
                var entryIsDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: full, isDirectory: &entryIsDirectory), !entryIsDirectory.boolValue else { continue }
                if manifestExtensions.contains((name as NSString).pathExtension.lowercased()) { found.append(full) }
            }
            files += found.sorted()
        }
        return files
    }

    /// Seals every Secret in the files at `paths`. Each file is rewritten atomically, only if it changed;
    /// a file with an error is left untouched and reported, and the others still proceed.
    public func seal(paths: [String], dryRun: Bool) -> (results: [FileResult], errors: [FileError]) {
        let files: [String]
        do {
            files = try InPlaceSealer.manifestFiles(at: paths)
        } catch let error as FileError {
            return ([], [error])
        } catch {
            return ([], [FileError(path: paths.joined(separator: " "), message: "\(error)")])
        }
        var results: [FileResult] = []
        var errors: [FileError] = []
        for file in files {
            do {
                results.append(try sealFile(at: file, dryRun: dryRun))
            } catch let error as FileError {
                errors.append(error)
            } catch {
                errors.append(FileError(path: file, message: "\(error)"))
            }
        }
        return (results, errors)
    }

    /// Seals the Secrets in one file; with `dryRun` only reports what would change.
    public func sealFile(at path: String, dryRun: Bool) throws -> FileResult {
        guard let data = FileManager.default.contents(atPath: path) else { throw FileError(path: path, message: "cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else { throw FileError(path: path, message: "not UTF-8 text") }
        let (newText, replacements) = try rewrite(text, source: path)
        if !dryRun && !replacements.isEmpty {
            var mode: mode_t = 0o644
            if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
               let permissions = attributes[.posixPermissions] as? NSNumber {
                mode = mode_t(permissions.uint16Value)
            }
            try AtomicFileWriter.write(newText, to: path, mode: mode)
        }
        return FileResult(path: path, replacements: replacements)
    }

    /// The rewritten text and the replacements made (pure; nothing is written).
    public func rewrite(_ text: String, source: String) throws -> (String, [Replacement]) {
        let trimmed = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }
        if let first = trimmed.first, first == "{" || first == "[" {
            return try rewriteJSON(text, source: source)
        }
        return try rewriteYAML(text, source: source)
    }

    private func rewriteJSON(_ text: String, source: String) throws -> (String, [Replacement]) {
        let documents = try ManifestReader.documents(in: text, source: source)
        guard documents.contains(where: Secret.isSecret) else { return (text, []) }
        guard documents.count == 1 else {
            throw FileError(path: source, message: "in-place sealing of JSON supports one object per file")
        }
        let secret = try Secret(manifest: documents[0], source: source, document: 1)
        let sealed = try sealOne(secret, source: source, document: 1)
        return (ManifestWriter.json(sealed.manifest()) + "\n", [Replacement(document: 1, line: 1, secret: sealed.metadata.displayName)])
    }

    private func sealOne(_ secret: Secret, source: String, document: Int) throws -> SealedSecret {
        do {
            return try sealer.seal(secret, options: options)
        } catch let error as SealError {
            throw FileError(path: source, message: "document \(document): \(error.message)")
        }
    }

    /// One YAML document's text: the `---` line that opens it (if any) and the lines up to the next one.
    private struct Chunk {
        var separator: Substring?
        var lines: [Substring]
        var firstLine: Int
    }

    private static func isSeparator(_ line: Substring) -> Bool {
        guard line.hasPrefix("---") || line.hasPrefix("...") else { return false }
        let rest = line.dropFirst(3)
        return rest.isEmpty || rest.first == " " || rest.first == "\t" || rest.first == "\n" || rest.first == "\r\n"
    }

    private static func isCommentOrBlank(_ line: Substring, columnZeroOnly: Bool) -> Bool {
        let stripped = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if stripped.isEmpty { return true }
        if columnZeroOnly { return line.hasPrefix("#") }
        return stripped.hasPrefix("#")
    }

    private func rewriteYAML(_ text: String, source: String) throws -> (String, [Replacement]) {
        // Split into lines keeping their terminators, so unchanged text is reproduced exactly.
        var lines: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            index = text.index(after: index)
            if character == "\n" || character == "\r\n" {
                lines.append(text[start ..< index])
                start = index
            }
        }
        if start < text.endIndex { lines.append(text[start...]) }

        var chunks: [Chunk] = [Chunk(separator: nil, lines: [], firstLine: 1)]
        for (number, line) in lines.enumerated() {
            if InPlaceSealer.isSeparator(line) {
                chunks.append(Chunk(separator: line, lines: [], firstLine: number + 1))
            } else {
                chunks[chunks.count - 1].lines.append(line)
            }
        }

        var output = ""
        var replacements: [Replacement] = []
        var documentNumber = 0
        for chunk in chunks {
            let body = chunk.lines.joined()
            let documents: [ManifestValue]
            do {
                documents = try ManifestReader.yamlDocuments(body, source: source)
            } catch {
                if body.range(of: #"(?m)^kind:\s*["']?Secret["']?\s*$"#, options: .regularExpression) != nil {
                    throw FileError(path: source, message: "line \(chunk.firstLine): cannot parse a document that looks like a Secret: \(error)")
                }
                documents = []
                if !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { documentNumber += 1 }
                output += (chunk.separator.map(String.init) ?? "") + body
                continue
            }
            if !documents.isEmpty { documentNumber += 1 }
            guard documents.count == 1, Secret.isSecret(documents[0]) else {
                output += (chunk.separator.map(String.init) ?? "") + body
                continue
            }
            let secret = try Secret(manifest: documents[0], source: source, document: documentNumber)
            let sealed = try sealOne(secret, source: source, document: documentNumber)
            var rendered = String(try ManifestWriter.yaml(sealed.manifest()).dropFirst(4)) // without "---\n"

            // Keep leading comments/blank lines and trailing column-0 comments/blank lines of the chunk.
            let leading = chunk.lines.prefix { InPlaceSealer.isCommentOrBlank($0, columnZeroOnly: false) }
            var rest = chunk.lines.dropFirst(leading.count)
            var trailing: [Substring] = []
            while let last = rest.last, InPlaceSealer.isCommentOrBlank(last, columnZeroOnly: true) {
                trailing.insert(last, at: 0)
                rest = rest.dropLast()
            }
            let lineEnding = (chunk.separator ?? rest.first ?? "").hasSuffix("\r\n") ? "\r\n" : "\n"
            if lineEnding == "\r\n" { rendered = rendered.replacingOccurrences(of: "\n", with: "\r\n") }
            var leadingText = leading.joined()
            if !leadingText.isEmpty && !(leadingText.hasSuffix("\n")) { leadingText += lineEnding }
            output += (chunk.separator.map(String.init) ?? "") + leadingText + rendered + trailing.joined()
            let firstContentLine = chunk.firstLine + (chunk.separator == nil ? 0 : 1) + leading.count
            replacements.append(Replacement(document: documentNumber, line: firstContentLine, secret: sealed.metadata.displayName))
        }
        return (output, replacements)
    }
}

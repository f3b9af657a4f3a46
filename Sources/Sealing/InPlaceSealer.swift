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
            try AtomicFileWriter.write(newText, to: path)   // keeps the file's permissions
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

    /// JSON: each Secret object (top-level, in a top-level array, or among a List's `items`) is
    /// replaced by its SealedSecret in kubeseal's JSON layout, indented like the line it starts on;
    /// every other byte stays.
    private func rewriteJSON(_ text: String, source: String) throws -> (String, [Replacement]) {
        let objects: [JSONParser.ObjectSpan]
        do {
            objects = try JSONParser.objectSpans(text, source: source)
        } catch let error as ManifestError {
            throw FileError(path: source, message: error.message)
        }
        guard objects.contains(where: { Secret.isSecret($0.value) }) else { return (text, []) }
        var bytes = Array(text.utf8)
        let lineEnding = text.contains("\r\n") ? "\r\n" : "\n"
        var edits: [(range: Range<Int>, text: [UInt8])] = []
        var replacements: [Replacement] = []
        for (index, object) in objects.enumerated() where Secret.isSecret(object.value) {
            let document = index + 1
            let secret = try readSecret(object.value, source: source, document: document)
            let sealed = try sealOne(secret, source: source, document: document)
            var lineStart = object.range.lowerBound
            while lineStart > 0 && bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
            let indent = String(decoding: bytes[lineStart ..< object.range.lowerBound].prefix { $0 == 0x20 || $0 == 0x09 }, as: UTF8.self)
            let rendered = ManifestWriter.json(sealed.manifest()).replacingOccurrences(of: "\n", with: lineEnding + indent)
            edits.append((object.range, Array(rendered.utf8)))
            let line = bytes[..<object.range.lowerBound].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            replacements.append(Replacement(document: document, line: line, secret: sealed.metadata.displayName))
        }
        for edit in edits.reversed() { bytes.replaceSubrange(edit.range, with: edit.text) }
        return (String(decoding: bytes, as: UTF8.self), replacements)
    }

    private func readSecret(_ value: ManifestValue, source: String, document: Int) throws -> Secret {
        do {
            return try Secret(manifest: value, source: source, document: document)
        } catch let error as ManifestError {
            throw FileError(path: source, message: error.document.map { "document \($0): \(error.message)" } ?? error.message)
        }
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
            if documents.count == 1, let (listText, listReplacements) = try rewriteList(chunk, list: documents[0], source: source, document: documentNumber) {
                output += (chunk.separator.map(String.init) ?? "") + listText
                replacements += listReplacements
                continue
            }
            guard documents.count == 1, Secret.isSecret(documents[0]) else {
                output += (chunk.separator.map(String.init) ?? "") + body
                continue
            }
            let secret = try readSecret(documents[0], source: source, document: documentNumber)
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

    // MARK: - kind: List

    /// A `kind: List` document holding Secrets: each Secret item is replaced by its SealedSecret in
    /// place, the other items' lines stay as they were. When the item lines cannot be located with
    /// certainty (flow style, unusual layout), the whole List is written anew. Nil when there is no Secret.
    private func rewriteList(_ chunk: Chunk, list: ManifestValue, source: String, document: Int) throws -> (String, [Replacement])? {
        guard let object = list.object, (object["kind"]?.string ?? "").hasSuffix("List"),
              case .array(let items)? = object["items"], items.contains(where: Secret.isSecret) else { return nil }
        var sealed: [Int: SealedSecret] = [:]
        for (index, item) in items.enumerated() where Secret.isSecret(item) {
            do {
                sealed[index] = try sealer.seal(try Secret(manifest: item, source: source, document: document), options: options)
            } catch let error as ManifestError {
                throw FileError(path: source, message: "document \(document), item \(index + 1): \(error.message)")
            } catch let error as SealError {
                throw FileError(path: source, message: "document \(document), item \(index + 1): \(error.message)")
            }
        }
        let lineEnding = (chunk.separator ?? chunk.lines.first ?? "").hasSuffix("\r\n") ? "\r\n" : "\n"
        let contentStart = chunk.firstLine + (chunk.separator == nil ? 0 : 1)
        func rendered(_ value: SealedSecret) throws -> [String] {
            try ManifestWriter.yaml(value.manifest()).dropFirst(4).split(separator: "\n", omittingEmptySubsequences: false)
                .dropLast().map(String.init)
        }
        if let layout = InPlaceSealer.listLayout(chunk.lines, items: items) {
            var output = ""
            var replacements: [Replacement] = []
            var cursor = 0
            for (index, item) in layout.items.enumerated() {
                guard let sealedItem = sealed[index] else { continue }
                output += chunk.lines[cursor ..< item.lowerBound].joined()
                let pad = String(repeating: " ", count: layout.indent)
                for (number, line) in try rendered(sealedItem).enumerated() {
                    output += (number == 0 ? pad + "- " : (line.isEmpty ? "" : pad + "  ")) + line + lineEnding
                }
                cursor = item.upperBound
                replacements.append(Replacement(document: document, line: contentStart + item.lowerBound, secret: sealedItem.metadata.displayName))
            }
            output += chunk.lines[cursor...].joined()
            return (output, replacements)
        }
        // Fallback: the List document is written anew (leading comments kept).
        var newObject = object
        newObject["items"] = .array(items.enumerated().map { sealed[$0]?.manifest() ?? $1 })
        let leading = chunk.lines.prefix { InPlaceSealer.isCommentOrBlank($0, columnZeroOnly: false) }
        var text = String(try ManifestWriter.yaml(.object(newObject)).dropFirst(4))
        if lineEnding == "\r\n" { text = text.replacingOccurrences(of: "\n", with: "\r\n") }
        let names = sealed.keys.sorted().compactMap { sealed[$0]?.metadata.displayName }
        let replacements = names.map { Replacement(document: document, line: contentStart + leading.count, secret: $0) }
        return (leading.joined() + text, replacements)
    }

    /// Where each item of a block-style `items:` sequence sits: its line range within `lines`
    /// (without trailing comments and blank lines) and the sequence's indent. Nil unless every item
    /// was found and re-parses, on its own, to the same value.
    private static func listLayout(_ lines: [Substring], items: [ManifestValue]) -> (indent: Int, items: [Range<Int>])? {
        func indentation(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }
        guard let itemsLine = lines.firstIndex(where: { $0.hasPrefix("items:") }) else { return nil }
        let rest = lines[itemsLine].dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)
        guard rest.isEmpty || rest.hasPrefix("#") else { return nil }
        var starts: [Int] = []
        var end = lines.count
        var indent: Int?
        var index = itemsLine + 1
        while index < lines.count {
            let line = lines[index]
            if isCommentOrBlank(line, columnZeroOnly: false) { index += 1; continue }
            let column = indentation(line)
            let content = line.dropFirst(column)
            if indent == nil {
                guard content.hasPrefix("- ") else { return nil }
                indent = column
            }
            guard let indent else { return nil }
            if column < indent || (column == indent && !content.hasPrefix("-")) { end = index; break }
            if column == indent {
                guard content.hasPrefix("- ") else { return nil }
                starts.append(index)
            }
            index += 1
        }
        guard let indent, starts.count == items.count else { return nil }
        var ranges: [Range<Int>] = []
        for (number, start) in starts.enumerated() {
            var upper = number + 1 < starts.count ? starts[number + 1] : end
            while upper > start + 1 && isCommentOrBlank(lines[upper - 1], columnZeroOnly: false) { upper -= 1 }
            let text = lines[start ..< upper].enumerated().map { offset, line -> Substring in
                offset == 0 ? line.dropFirst(indent + 2) : line.dropFirst(min(indent + 2, indentation(line)))
            }.joined()
            guard let parsed = try? ManifestReader.yamlDocuments(text, source: ""), parsed == [items[number]] else { return nil }
            ranges.append(start ..< upper)
        }
        return (indent, ranges)
    }
}

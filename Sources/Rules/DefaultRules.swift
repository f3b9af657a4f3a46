/// The default rule set shipped in the binary: every `patterns/*.toml` file, embedded at build time.
public enum DefaultRules {
    /// The rule files, by file name, in sorted order.
    public static var files: [(name: String, text: String)] { EmbeddedPatterns.files }

    /// All files as one TOML document (`[[rules]]` and `[[allowlists]]` tables append across files).
    public static var toml: String { files.map(\.text).joined(separator: "\n") }
}

/// The output formats `sealant` can write findings in.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// gitleaks-compatible JSON array (also what `--baseline-path` reads back).
    case json
    /// SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
    case sarif
    /// gitleaks-compatible CSV.
    case csv
    /// JUnit XML for CI test-report widgets.
    case junit
    /// Human-readable blocks for terminals and hooks.
    case text
    /// GitHub Actions `::error` workflow commands (inline annotations).
    case github
    /// GitLab secret-detection security report.
    case gitlab

    /// The format implied by a `--report-path` extension (`json`, `sarif`, `csv`, `xml` -> junit);
    /// anything else is `text`. Accepts the extension with or without a leading dot, any case.
    public init(pathExtension: String) {
        var ext = pathExtension.lowercased()
        if ext.hasPrefix(".") { ext.removeFirst() }
        switch ext {
        case "json": self = .json
        case "sarif": self = .sarif
        case "csv": self = .csv
        case "xml", "junit": self = .junit
        default: self = .text
        }
    }

    /// Whether this format is for people reading a log (and so redacts by default).
    var isForHumans: Bool { self == .text || self == .github }
}

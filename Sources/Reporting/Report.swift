import Detection

/// Renders `findings` in `format`, in the order given, after applying the redaction
/// `options.redaction(for: format)` to every secret, match and line. The output is a pure
/// function of its inputs (GitLab scan times come from `options` when set), so it can be
/// compared byte for byte.
public func renderReport(_ findings: [Finding], format: ReportFormat, options: ReportOptions = ReportOptions()) -> String {
    let percent = options.redaction(for: format)
    let shown = findings.map { ReportedFinding(original: $0, shown: $0.redacted(percent: percent)) }
    switch format {
    case .json: return GitleaksJSON.render(shown.map(\.shown))
    case .sarif: return SARIFReport.render(shown, options: options)
    case .csv: return CSVReport.render(shown.map(\.shown))
    case .junit: return JUnitReport.render(shown.map(\.shown), options: options)
    case .text: return TextReport.render(shown.map(\.shown), options: options)
    case .github: return GitHubAnnotations.render(shown.map(\.shown))
    case .gitlab: return GitLabReport.render(shown, options: options)
    }
}

/// A finding as printed (redacted) next to the original, for ids that must not depend on the
/// redaction setting (SARIF fingerprints, GitLab vulnerability ids).
struct ReportedFinding: Sendable {
    var original: Finding
    var shown: Finding
}

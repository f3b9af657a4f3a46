import Foundation
import Rules

/// Everything a reporter needs besides the findings: redaction, colour, tool identity, rule
/// metadata (SARIF), the scan root (SARIF base URI) and scan times (GitLab).
public struct ReportOptions: Sendable {
    /// How much of each secret to hide, 0...100 (gitleaks `--redact`). `nil` means the format's
    /// default: `text` and `github` hide `defaultHumanRedaction` percent because they end up in
    /// terminals and CI logs; machine formats keep the secret (baselines need it).
    public var redactPercent: Int?
    /// ANSI colour in `text` output. The CLI sets it for a TTY when `NO_COLOR` is unset.
    public var color: Bool
    /// Tool id written into SARIF `driver.name`, the JUnit suite name and GitLab `scanner.id`.
    public var toolName: String
    /// Tool version for SARIF `driver.version` and GitLab `scanner.version`.
    public var toolVersion: String
    /// Project home page written to SARIF `informationUri` and GitLab `url`; omitted when `nil`.
    public var informationURI: String?
    /// Rule metadata for SARIF `tool.driver.rules`; findings whose rule is missing here get an
    /// entry built from the finding itself.
    public var rules: [Rule]
    /// Absolute path of the scanned directory, written as SARIF `originalUriBaseIds.SRCROOT`.
    public var scanRoot: String?
    /// When the scan started and finished (GitLab `scan.start_time`/`end_time`); `nil` = now.
    public var scanStarted: Date?
    /// When the scan finished; `nil` = `scanStarted`, or now.
    public var scanFinished: Date?

    /// What `text` and `github` hide when the caller did not choose: keeps about a fifth of the
    /// secret, enough to recognise a token's prefix (`AKIA`, `ghp_`) and no more.
    public static let defaultHumanRedaction = 80

    public init(redactPercent: Int? = nil, color: Bool = false, toolName: String = "sealant",
                toolVersion: String = "0.0.0", informationURI: String? = nil, rules: [Rule] = [],
                scanRoot: String? = nil, scanStarted: Date? = nil, scanFinished: Date? = nil) {
        self.redactPercent = redactPercent
        self.color = color
        self.toolName = toolName
        self.toolVersion = toolVersion
        self.informationURI = informationURI
        self.rules = rules
        self.scanRoot = scanRoot
        self.scanStarted = scanStarted
        self.scanFinished = scanFinished
    }

    /// The redaction percent actually applied for `format`, clamped to 0...100.
    public func redaction(for format: ReportFormat) -> Int {
        let chosen = redactPercent ?? (format.isForHumans ? Self.defaultHumanRedaction : 0)
        return min(max(chosen, 0), 100)
    }
}

import Detection
import Foundation

/// Why a gitleaks-format report (a `--baseline-path` file) could not be read.
public enum ReportReadError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not JSON at all (or not UTF-8).
    case invalidJSON(source: String, detail: String)
    /// The JSON is valid but is not an array of finding objects.
    case notAnArray(source: String)
    /// Entry `index` (0-based) has `key` with the wrong type, or lacks the required `RuleID`.
    case invalidEntry(source: String, index: Int, key: String, problem: String)

    public var description: String {
        switch self {
        case .invalidJSON(let source, let detail):
            return "\(source): not a valid JSON report: \(detail)"
        case .notAnArray(let source):
            return "\(source): expected a JSON array of findings (a gitleaks/sealant JSON report)"
        case .invalidEntry(let source, let index, let key, let problem):
            return "\(source): finding #\(index + 1): \(key) \(problem)"
        }
    }
}

/// Reads a JSON report written by `sealant` (`--report-format json`) or by gitleaks 8.x back into
/// findings, for baselines. Keys other than `RuleID` may be missing or `null` (older gitleaks
/// versions omit some) and default to empty values; unknown keys are ignored; a top-level `null`
/// means no findings. `Line` is not part of the format and comes back empty. `source` names the
/// file in errors.
public func readReport(_ data: Data, source: String) throws(ReportReadError) -> [Finding] {
    do {
        return try JSONDecoder().decode([ReportEntry]?.self, from: data)?.map(\.finding) ?? []
    } catch let error as DecodingError {
        throw readError(error, source: source)
    } catch {
        throw .invalidJSON(source: source, detail: describe(error))
    }
}

private func describe(_ error: Error) -> String {
    let ns = error as NSError
    if let detail = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
    return ns.localizedDescription
}

/// Maps a decoding failure to "not JSON", "not an array", or the entry index and key it happened at.
private func readError(_ error: DecodingError, source: String) -> ReportReadError {
    let path: [CodingKey]
    let problem: String
    switch error {
    case .typeMismatch(let type, let context):
        path = context.codingPath
        problem = "should be \(expected(type))"
    case .valueNotFound(let type, let context):
        path = context.codingPath
        problem = "should be \(expected(type))"
    case .keyNotFound(let key, let context):
        path = context.codingPath + [key]
        problem = "is missing"
    case .dataCorrupted(let context):
        if context.codingPath.isEmpty {
            return .invalidJSON(source: source, detail: context.underlyingError.map(describe) ?? context.debugDescription)
        }
        path = context.codingPath
        problem = "is invalid: \(context.debugDescription)"
    @unknown default:
        return .invalidJSON(source: source, detail: String(describing: error))
    }
    guard let first = path.first, let index = first.intValue else { return .notAnArray(source: source) }
    guard let key = path.dropFirst().first?.stringValue else {
        return .invalidEntry(source: source, index: index, key: "entry", problem: "is not a JSON object")
    }
    return .invalidEntry(source: source, index: index, key: key, problem: problem)
}

private func expected(_ type: Any.Type) -> String {
    if type == String.self { return "a string" }
    if type == Int.self { return "an integer" }
    if type == Double.self { return "a number" }
    if type == [String].self { return "an array of strings" }
    return "a JSON object"
}

/// One entry of a gitleaks-format report.
private struct ReportEntry: Decodable {
    var finding: Finding

    private enum Key: String, CodingKey {
        case RuleID, Description, StartLine, EndLine, StartColumn, EndColumn, Match, Secret, File
        case SymlinkFile, Commit, Link, Entropy, Author, Email, Date, Message, Tags, Fingerprint
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func text(_ key: Key) throws -> String { try c.decodeIfPresent(String.self, forKey: key) ?? "" }
        func int(_ key: Key) throws -> Int { try c.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        let provenance = Provenance(
            file: try text(.File), symlinkFile: try text(.SymlinkFile), commit: try text(.Commit),
            author: try text(.Author), email: try text(.Email), date: try text(.Date),
            message: try text(.Message), link: try text(.Link))
        finding = Finding(
            ruleID: try c.decode(String.self, forKey: .RuleID), description: try text(.Description),
            startLine: try int(.StartLine), endLine: try int(.EndLine),
            startColumn: try int(.StartColumn), endColumn: try int(.EndColumn),
            match: try text(.Match), secret: try text(.Secret), provenance: provenance,
            entropy: try c.decodeIfPresent(Double.self, forKey: .Entropy) ?? 0,
            tags: try c.decodeIfPresent([String].self, forKey: .Tags) ?? [],
            fingerprint: try text(.Fingerprint))
    }
}

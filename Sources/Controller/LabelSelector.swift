import Foundation

/// A Kubernetes label selector in its text form (`--label-selector`): comma-separated requirements
/// `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`. The controller sends the text to the API
/// server as it is; parsing it here rejects a bad flag at start and lets the stand-in API server filter.
public struct LabelSelector: Sendable, Equatable, CustomStringConvertible {
    enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case exists(String)
        case notExists(String)
        case inSet(String, [String])
        case notInSet(String, [String])
    }

    let requirements: [Requirement]
    /// The text as given.
    public let description: String

    /// Parses `text`; throws `invalidOption` naming `flag`.
    public init(parsing text: String, flag: String = "label-selector") throws {
        func fail(_ reason: String) -> ControllerError { .invalidOption(name: flag, value: text, reason: reason) }
        var requirements: [Requirement] = []
        for term in try Self.terms(text, fail) {
            let trimmed = term.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { throw fail("empty requirement") }
            if trimmed.hasPrefix("!") {
                let key = trimmed.dropFirst().trimmingCharacters(in: .whitespaces)
                guard Self.isQualifiedName(key) else { throw fail("\"\(key)\" is not a valid label key") }
                requirements.append(.notExists(key))
            } else if let range = trimmed.range(of: "!=") ?? trimmed.range(of: "==") ?? trimmed.range(of: "=") {
                let key = trimmed[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = trimmed[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard Self.isQualifiedName(key) else { throw fail("\"\(key)\" is not a valid label key") }
                guard Self.isLabelValue(value) else { throw fail("\"\(value)\" is not a valid label value") }
                requirements.append(trimmed[range] == "!=" ? .notEquals(key, value) : .equals(key, value))
            } else if let match = trimmed.firstMatch(of: /^(\S+)\s+(in|notin)\s*\((.*)\)$/) {
                let key = String(match.1)
                guard Self.isQualifiedName(key) else { throw fail("\"\(key)\" is not a valid label key") }
                let values = match.3.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard values.allSatisfy(Self.isLabelValue) else { throw fail("bad value list in \"\(trimmed)\"") }
                requirements.append(match.2 == "in" ? .inSet(key, values) : .notInSet(key, values))
            } else {
                guard Self.isQualifiedName(trimmed) else { throw fail("\"\(trimmed)\" is not a valid requirement") }
                requirements.append(.exists(trimmed))
            }
        }
        self.requirements = requirements
        self.description = text
    }

    /// Whether `labels` satisfy every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): return labels[key] == value
            case .notEquals(let key, let value): return labels[key] != value
            case .exists(let key): return labels[key] != nil
            case .notExists(let key): return labels[key] == nil
            case .inSet(let key, let values): return labels[key].map(values.contains) ?? false
            case .notInSet(let key, let values): return !(labels[key].map(values.contains) ?? false)
            }
        }
    }

    /// Splits at commas outside parentheses.
    private static func terms(_ text: String, _ fail: (String) -> ControllerError) throws -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "(": depth += 1
            case ")":
                depth -= 1
                if depth < 0 { throw fail("unbalanced parentheses") }
            case "," where depth == 0:
                terms.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        guard depth == 0 else { throw fail("unbalanced parentheses") }
        terms.append(current)
        return terms
    }

    /// A label or annotation key: an optional DNS subdomain prefix and `/`, then a name of up to 63
    /// alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
    static func isQualifiedName(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last else { return false }
        if parts.count == 2 {
            let prefix = parts[0]
            guard !prefix.isEmpty, prefix.count <= 253,
                  prefix.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }) else { return false }
        }
        return !name.isEmpty && isLabelValue(String(name))
    }

    /// A label value: empty, or up to 63 alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
    static func isLabelValue(_ value: String) -> Bool {
        guard !value.isEmpty else { return true }
        guard value.count <= 63, let first = value.first, let last = value.last,
              first.isASCII && (first.isLetter || first.isNumber), last.isASCII && (last.isLetter || last.isNumber) else { return false }
        return value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}

import Rules

/// Runs every rule's own samples (`examples`, `negativeExamples`, `sampleSecrets` in every common
/// context), each rule alone with the global allowlists, as `sealant rules check` does.
public enum RuleCheck {
    /// One failed expectation.
    public struct Failure: Sendable, CustomStringConvertible {
        public var ruleID: String
        public var problem: String
        public var description: String { "\(ruleID): \(problem)" }
    }

    /// The contexts a bare sample secret is embedded in; `K` is the sample key, `S` the secret.
    public static let contexts: [(name: String, render: @Sendable (String, String) -> String)] = [
        ("unquoted assignment", { k, s in "\(k) = \(s)" }),
        ("double-quoted assignment", { k, s in "\(k) = \"\(s)\"" }),
        ("YAML single-quoted", { k, s in "\(k): '\(s)'" }),
        ("YAML plain", { k, s in "\(k): \(s)" }),
        ("JSON", { k, s in "{\"\(k)\": \"\(s)\", \"other\": 1}" }),
        ("JSON inside a string", { k, s in "{\"cells\": [\"\(k)=\(s)\\n\"]}" }),
        ("XML element", { k, s in "<\(k)>\(s)</\(k)>" }),
        (".env", { k, s in "\(k.uppercased())=\(s)" }),
        ("URL query", { k, s in "https://example.com/callback?\(k)=\(s)&mode=1" }),
        ("CRLF line ends", { k, s in "\(k) = \"\(s)\"\r\nnext = 1\r\n" }),
    ]

    /// Checks every rule of `ruleSet`; an empty result means all samples behave.
    /// Rules with no samples at all are reported too: a rule nobody can test is a liability.
    public static func run(_ ruleSet: RuleSet, requireSamples: Bool = true) throws -> [Failure] {
        var failures = [Failure]()
        for rule in ruleSet.rules {
            let single = RuleSet(title: ruleSet.title, rules: [rule], allowlists: ruleSet.allowlists, source: ruleSet.source)
            let scanner = try Detector(ruleSet: single).makeScanner()
            failures += check(rule, scanner: scanner, requireSamples: requireSamples)
        }
        return failures
    }

    static func check(_ rule: Rule, scanner: Scanner, requireSamples: Bool) -> [Failure] {
        var failures = [Failure]()
        func fail(_ problem: String) { failures.append(Failure(ruleID: rule.id, problem: problem)) }
        let path = rule.samplePath ?? "sample.txt"
        if requireSamples && rule.examples.isEmpty && rule.sampleSecrets.isEmpty {
            fail("has no examples or sampleSecrets")
        }
        for (i, example) in rule.examples.enumerated() where scanner.scan(example, path: path).isEmpty {
            fail("example #\(i + 1) was not detected: \(preview(example))")
        }
        for (i, negative) in rule.negativeExamples.enumerated() {
            let found = scanner.scan(negative, path: path)
            if let first = found.first {
                fail("negative example #\(i + 1) was detected (secret \(preview(first.secret))): \(preview(negative))")
            }
        }
        let key = rule.sampleKey ?? "token"
        for secret in rule.sampleSecrets {
            for context in contexts {
                let text = context.render(key, secret)
                let secrets = scanner.scan(text, path: path).map(\.secret)
                if !secrets.contains(secret) {
                    let got = secrets.isEmpty ? "nothing" : secrets.map(preview).joined(separator: ", ")
                    fail("sample \(preview(secret)) in context '\(context.name)' gave \(got)")
                }
            }
        }
        return failures
    }

    private static func preview(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        return flat.count > 90 ? String(flat.prefix(87)) + "..." : flat
    }
}

import Foundation

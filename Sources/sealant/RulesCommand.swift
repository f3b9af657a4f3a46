import ArgumentParser
import Detection
import Foundation
import Rules

/// `sealant rules list | check | explain ID`.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List, check and explain detection rules.",
        subcommands: [List.self, Check.self, Explain.self]
    )

    /// Options shared by the rules subcommands.
    struct ConfigOption: ParsableArguments {
        @Option(name: [.short, .long], help: "Configuration file (default: SEALANT_CONFIG, then the built-in rules).")
        var config: String?

        func load() throws -> RuleSet {
            try CLIError.wrap { try ConfigLoader.resolve(explicitPath: config, scanRoot: nil, environment: ProcessInfo.processInfo.environment) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List rule ids and descriptions.")
        @OptionGroup var options: ConfigOption

        func run() throws {
            let ruleSet = try options.load()
            let width = ruleSet.rules.map(\.id.count).max() ?? 0
            for rule in ruleSet.rules {
                print(rule.id.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + rule.description)
            }
            print("\(ruleSet.rules.count) rules (\(ruleSet.source))")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every rule's examples, negative examples and sample secrets in common contexts.")
        @OptionGroup var options: ConfigOption

        func run() throws {
            let ruleSet = try options.load()
            let detector = try CLIError.wrap { try Detector(ruleSet: ruleSet) }
            for fallback in detector.pcre2OnlyRules {
                printError("warning: rule \(fallback.id): Vectorscan cannot take the regex (\(fallback.reason)); it runs through PCRE2 alone, more slowly")
            }
            let failures = try CLIError.wrap { try RuleCheck.run(ruleSet) }
            for failure in failures { print("FAIL \(failure)") }
            let failedRules = Set(failures.map(\.ruleID)).count
            print("\(ruleSet.rules.count - failedRules) of \(ruleSet.rules.count) rules passed their samples")
            if !failures.isEmpty { throw ExitCode(1) }
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one rule in full.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Rule id.") var id: String

        func run() throws {
            let ruleSet = try options.load()
            guard let rule = ruleSet.rule(id: id) else {
                throw CLIError("no rule with id '\(id)' in \(ruleSet.source)")
            }
            print("id:          \(rule.id)")
            print("description: \(rule.description)")
            if let regex = rule.regex { print("regex:       \(regex)") }
            if let path = rule.path { print("path:        \(path)") }
            if let group = rule.secretGroup { print("secretGroup: \(group)") }
            if let entropy = rule.entropy { print("entropy:     > \(entropy)") }
            if !rule.keywords.isEmpty { print("keywords:    \(rule.keywords.joined(separator: ", "))") }
            if let checksum = rule.checksum { print("checksum:    \(checksum)") }
            if !rule.tags.isEmpty { print("tags:        \(rule.tags.joined(separator: ", "))") }
            if !rule.allowlists.isEmpty { print("allowlists:  \(rule.allowlists.count)") }
            print("samples:     \(rule.examples.count) examples, \(rule.negativeExamples.count) negative, \(rule.sampleSecrets.count) secrets in \(RuleCheck.contexts.count) contexts")
        }
    }
}

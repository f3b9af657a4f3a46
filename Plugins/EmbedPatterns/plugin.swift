import Foundation
import PackagePlugin

/// Embeds every `patterns/*.toml` file into the Rules module at build time, so the release binary
/// carries the default rule set and works when copied anywhere.
@main
struct EmbedPatterns: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let patterns = context.package.directoryURL.appendingPathComponent("patterns")
        let files = (try FileManager.default.contentsOfDirectory(atPath: patterns.path))
            .filter { $0.hasSuffix(".toml") }
            .sorted()
            .map { patterns.appendingPathComponent($0) }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedPatterns.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) rule files from patterns/",
                executable: try context.tool(named: "embed-patterns").url,
                // The tool lists the folder itself when it runs, and the folder is an input too, so a
                // rule file added or removed is picked up without re-planning the build.
                arguments: [output.path, patterns.path],
                inputFiles: [patterns] + files,
                outputFiles: [output]
            )
        ]
    }
}

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
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]
            )
        ]
    }
}

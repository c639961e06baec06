import ArgumentParser
import Foundation
import RecommendCore

/// Dumps every user's top-N list as JSON, for comparison with scripts/reference_cf.py.
///
/// `{"manifest": "...", "top": N, "users": {"<user>": [["<item>", score], ...], ...}}`; scores are printed with
/// Swift's shortest round-trip representation, so Python reads back the exact Double.
struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reference", abstract: "Dump every user's top-N as JSON.")

    @Option(help: "The interactions file.") var data: String
    @Option(help: "The JSON file written.") var out: String
    @Option(help: "N, the length of each list.") var top = 10
    @OptionGroup var manifestOptions: ManifestOptions

    func run() throws {
        let manifest = try manifestOptions.parsed()
        let attributes = try manifestOptions.attributes()
        let model = try Recommender(
            interactions: loadTable(data), manifest: manifest, userAttributes: attributes.users, itemAttributes: attributes.items
        )
        var json = "{\"manifest\": \(quoted(manifest.description)), \"top\": \(top), \"users\": {"
        for (position, user) in model.userIds.enumerated() {
            let list = try model.recommend(user: user, k: top)
            let entries = list.map { "[\(quoted($0.item)), \($0.score)]" }.joined(separator: ", ")
            json += (position == 0 ? "\n" : ",\n") + "\(quoted(user)): [\(entries)]"
        }
        json += "\n}}\n"
        try Data(json.utf8).write(to: URL(filePath: out))
    }
}

/// A JSON string literal.
func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

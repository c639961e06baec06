/// A model's input files: the interactions plus optional user and item attribute tables.
///
/// A single artifact carries them as a **sectioned file**: a line `#%section interactions`, `#%section users` or
/// `#%section items` starts a section, which runs to the next such line. Text before the first marker belongs to
/// the interactions; a file without markers is all interactions (so every plain interactions file reads as before).
/// Line numbers in errors are the artifact's (see docs/recommendation.md, "Attribute files", for a shell one-liner).
///
/// ```swift
/// let inputs = try ModelInputs(parsing: "#%section interactions\nuser\titem\n1\t10\n#%section users\nuser_id\tgender\n1\tF\n")
/// ```
public struct ModelInputs: Sendable {
    /// The interactions.
    public var interactions: InteractionTable
    /// User attributes, when the artifact has a `users` section.
    public var userAttributes: AttributeTable?
    /// Item attributes, when the artifact has an `items` section.
    public var itemAttributes: AttributeTable?

    /// The section marker's prefix.
    public static let sectionMarker = "#%section "

    /// Creates inputs from parsed parts.
    public init(interactions: InteractionTable, userAttributes: AttributeTable? = nil, itemAttributes: AttributeTable? = nil) {
        self.interactions = interactions
        self.userAttributes = userAttributes
        self.itemAttributes = itemAttributes
    }

    /// Parses a plain interactions file or a sectioned file.
    ///
    /// - Throws: ``RecommendError`` `malformedInput` naming the line for an unknown or repeated section, or as the
    ///   interactions and attribute parsers do.
    public init(parsing text: String) throws(RecommendError) {
        guard text.contains(Self.sectionMarker) else {
            self.init(interactions: try InteractionTable(parsing: text))
            return
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var owner = [String](repeating: "interactions", count: lines.count)
        var current = "interactions"
        var started: [String: Int] = [:]
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingSpaces()
            if trimmed.hasPrefix(Self.sectionMarker) {
                let name = trimmed.dropFirst(Self.sectionMarker.count).trimmingSpaces()
                guard ["interactions", "users", "items"].contains(name) else {
                    throw .malformed(line: index + 1, "unknown section '\(name)' (allowed: interactions, users, items)")
                }
                if let first = started[name] {
                    throw .malformed(line: index + 1, "section '\(name)' repeats the one on line \(first)")
                }
                started[name] = index + 1
                current = name
                owner[index] = ""
            } else {
                owner[index] = current
            }
        }
        // Each part keeps every line, blank outside its section, so its parser reports the artifact's line numbers.
        func part(_ name: String) -> String {
            zip(lines, owner).map { $1 == name ? String($0) : "" }.joined(separator: "\n")
        }
        self.init(
            interactions: try InteractionTable(parsing: part("interactions")),
            userAttributes: started["users"] == nil ? nil : try AttributeTable(parsing: part("users")),
            itemAttributes: started["items"] == nil ? nil : try AttributeTable(parsing: part("items"))
        )
    }
}

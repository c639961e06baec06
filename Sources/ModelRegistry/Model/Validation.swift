/// Input validation. Every name that becomes part of a path or a key is checked here, with a message naming the
/// offending field, before anything is written.
enum Validate {
    static let maxModelName = 128
    static let maxShortName = 64
    static let maxText = 16 * 1024
    static let maxSchema = 256 * 1024
    static let maxMapEntries = 512
    static let maxKey = 256
    static let maxValue = 16 * 1024
    static let maxListEntries = 512

    private static func isNameCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        self.isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// Model names: 1–128 characters of `[A-Za-z0-9._-]`, not starting with `.`.
    static func modelName(_ name: String) throws(RegistryError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= self.maxModelName else {
            throw .invalidArgument("model name must be 1–\(self.maxModelName) characters, got \(bytes.count)")
        }
        guard bytes.allSatisfy(self.isNameCharacter) else {
            throw .invalidArgument("model name '\(self.printable(name))' may contain only [A-Za-z0-9._-]")
        }
        guard bytes[0] != UInt8(ascii: ".") else {
            throw .invalidArgument("model name '\(name)' must not start with '.'")
        }
    }

    /// A model-name prefix for filtering: up to 128 characters of `[A-Za-z0-9._-]`, possibly empty.
    static func namePrefix(_ prefix: String) throws(RegistryError) {
        guard prefix.utf8.count <= self.maxModelName, prefix.utf8.allSatisfy(self.isNameCharacter) else {
            throw .invalidArgument("name prefix '\(self.printable(prefix))' may contain only [A-Za-z0-9._-]")
        }
    }

    /// Alias names: 1–64 characters of `[A-Za-z0-9._-]` starting with a letter (so never a version number), and not
    /// `latest`.
    static func aliasName(_ name: String) throws(RegistryError) {
        try self.shortName(name, kind: "alias", mustStartWithLetter: true)
        guard name != "latest" else { throw .invalidArgument("'latest' is reserved and cannot be an alias") }
    }

    /// User and group names: 1–64 characters of `[A-Za-z0-9._-]` starting with a letter or digit.
    static func principalName(_ name: String, kind: String) throws(RegistryError) {
        try self.shortName(name, kind: kind, mustStartWithLetter: false)
    }

    private static func shortName(_ name: String, kind: String, mustStartWithLetter: Bool) throws(RegistryError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= self.maxShortName else {
            throw .invalidArgument("\(kind) name must be 1–\(self.maxShortName) characters, got \(bytes.count)")
        }
        guard bytes.allSatisfy(self.isNameCharacter) else {
            throw .invalidArgument("\(kind) name '\(self.printable(name))' may contain only [A-Za-z0-9._-]")
        }
        if mustStartWithLetter {
            guard self.isLetter(bytes[0]) else {
                throw .invalidArgument("\(kind) name '\(name)' must start with a letter")
            }
        } else {
            guard self.isAlphanumeric(bytes[0]) else {
                throw .invalidArgument("\(kind) name '\(name)' must start with a letter or digit")
            }
        }
    }

    /// Tags: 1–64 characters, no whitespace or control characters, no commas.
    static func tag(_ tag: String) throws(RegistryError) {
        let count = tag.unicodeScalars.count
        guard count >= 1, count <= self.maxShortName else {
            throw .invalidArgument("tag must be 1–\(self.maxShortName) characters, got \(count)")
        }
        guard !tag.unicodeScalars.contains(where: { $0.properties.isWhitespace || self.isControl($0) || $0 == "," })
        else {
            throw .invalidArgument("tag '\(self.printable(tag))' must not contain spaces, commas or control characters")
        }
    }

    /// Map keys (manifest, annotations, metrics): 1–256 characters without control characters.
    static func key(_ key: String, in field: String) throws(RegistryError) {
        let count = key.unicodeScalars.count
        guard count >= 1, count <= self.maxKey else {
            throw .invalidArgument("\(field) key must be 1–\(self.maxKey) characters, got \(count)")
        }
        guard !key.unicodeScalars.contains(where: self.isControl) else {
            throw .invalidArgument("\(field) key '\(self.printable(key))' contains control characters")
        }
    }

    /// Free text: bounded length; tab, newline and carriage return are the only control characters allowed.
    static func text(_ text: String, field: String, limit: Int = Validate.maxText) throws(RegistryError) {
        guard text.utf8.count <= limit else {
            throw .invalidArgument("\(field) is \(text.utf8.count) bytes, more than the limit of \(limit)")
        }
        let allowed: Set<Unicode.Scalar> = ["\t", "\n", "\r"]
        guard !text.unicodeScalars.contains(where: { self.isControl($0) && !allowed.contains($0) }) else {
            throw .invalidArgument("\(field) contains control characters")
        }
    }

    static func map(_ map: [String: String], field: String) throws(RegistryError) {
        guard map.count <= self.maxMapEntries else {
            throw .invalidArgument("\(field) has \(map.count) entries, more than \(self.maxMapEntries)")
        }
        for (key, value) in map {
            try self.key(key, in: field)
            try self.text(value, field: "\(field)['\(key)']", limit: self.maxValue)
        }
    }

    static func metrics(_ metrics: [String: Double]) throws(RegistryError) {
        guard metrics.count <= self.maxMapEntries else {
            throw .invalidArgument("metrics has \(metrics.count) entries, more than \(self.maxMapEntries)")
        }
        for (key, value) in metrics {
            try self.key(key, in: "metrics")
            guard value.isFinite else { throw .invalidArgument("metric '\(key)' is \(value); metrics must be finite") }
        }
    }

    static func list(_ list: [String], field: String) throws(RegistryError) {
        guard list.count <= self.maxListEntries else {
            throw .invalidArgument("\(field) has \(list.count) entries, more than \(self.maxListEntries)")
        }
        for item in list {
            guard !item.isEmpty else { throw .invalidArgument("\(field) contains an empty entry") }
            try self.text(item, field: field, limit: self.maxKey)
            guard !item.contains("\n") else { throw .invalidArgument("\(field) entry contains a newline") }
        }
    }

    /// Normalises tags (sorted, de-duplicated) after validating each.
    static func tags(_ tags: [String]) throws(RegistryError) -> [String] {
        guard tags.count <= self.maxListEntries else {
            throw .invalidArgument("tags has \(tags.count) entries, more than \(self.maxListEntries)")
        }
        for tag in tags { try self.tag(tag) }
        return Array(Set(tags)).sorted()
    }

    /// Checks every editable field of a model; returns it with tags normalised.
    static func model(_ model: Model) throws(RegistryError) -> Model {
        var model = model
        try self.modelName(model.name)
        try self.text(model.description, field: "description")
        try self.text(model.author, field: "author", limit: self.maxKey)
        model.tags = try self.tags(model.tags)
        try self.text(model.inputSchema, field: "input_schema", limit: self.maxSchema)
        try self.text(model.outputSchema, field: "output_schema", limit: self.maxSchema)
        try self.metrics(model.metrics)
        try self.list(model.dependencies, field: "dependencies")
        try self.text(model.intendedUse, field: "intended_use")
        try self.map(model.annotations, field: "annotations")
        try self.map(model.manifest, field: "manifest")
        return model
    }

    /// Checks an upload header; returns it with the sha256 lowercased.
    static func header(_ header: VersionHeader) throws(RegistryError) -> VersionHeader {
        var header = header
        header.sha256 = header.sha256.lowercased()
        guard Hex.isLowercaseHex(header.sha256, count: 64) else {
            throw .invalidArgument("sha256 must be 64 hex characters, got '\(self.printable(String(header.sha256.prefix(80))))'")
        }
        guard header.sizeBytes >= 0 else { throw .invalidArgument("declared size \(header.sizeBytes) is negative") }
        try self.text(header.description, field: "description")
        try self.text(header.author, field: "author", limit: self.maxKey)
        try self.metrics(header.metrics)
        try self.list(header.dependencies, field: "dependencies")
        try self.text(header.inputSchema, field: "input_schema", limit: self.maxSchema)
        try self.text(header.outputSchema, field: "output_schema", limit: self.maxSchema)
        try self.map(header.annotations, field: "annotations")
        try self.map(header.manifest, field: "manifest")
        return header
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// `text` with control characters escaped, safe to put in an error message.
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.prefix(200).map { self.isControl($0) ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined())
    }
}

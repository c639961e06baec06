extension Manifest {
    /// Parses a manifest from text lines of the form `key = value` or `key: value`.
    ///
    /// Blank lines and lines starting with `#` are skipped. Keys (case-insensitive):
    /// - `algorithm` (required): `itemcf` or `usercf`
    /// - `neighbours` (also `neighbors`, `k`): K, default 20
    /// - `feedback`: `implicit` (default) or `explicit`
    /// - `weighting`: `none` (default), `iuf` (ItemCF) or `iif` (UserCF)
    /// - `normalize`: `true`/`false` (also `yes`/`no`, `on`/`off`, `1`/`0`), default false
    /// - `data`: an interactions file name, kept in ``data`` for the caller
    /// - `similarity`: `cosine` (default), `pearson`, `adjusted_cosine`, `jaccard` or `euclidean`
    /// - `user_feature_weight` / `item_feature_weight`: the attribute weight of the UserCF / ItemCF blend, 0...1
    /// - `user_features` / `item_features`: the attribute columns, comma-separated (``FeatureColumn``)
    ///
    /// ```swift
    /// let manifest = try Manifest(parsing: "algorithm = itemcf\nneighbours: 50\nweighting = iuf\n")
    /// ```
    ///
    /// - Parameter text: The manifest text.
    /// - Throws: ``RecommendError`` with code `malformedInput` naming the line for a line without a separator, an
    ///   unknown or repeated key, or an unknown value; `invalidArgument` when ``validate()`` fails.
    public init(parsing text: String) throws(RecommendError) {
        var manifest = Manifest(algorithm: .itemCF)
        var seen: [String: Int] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") {
                continue
            }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw .malformed(line: lineNumber, "expected 'key = value' or 'key: value', got '\(line)'")
            }
            let key = line[..<separator].trimmingSpaces().lowercased()
            let value = line[line.index(after: separator)...].trimmingSpaces()
            let canonical = Self.canonicalKey(key)
            if let first = seen[canonical] {
                throw .malformed(line: lineNumber, "key '\(key)' repeats the one on line \(first)")
            }
            seen[canonical] = lineNumber
            if let problem = manifest.apply(key: canonical, value: value) {
                throw .malformed(line: lineNumber, problem)
            }
        }
        guard seen["algorithm"] != nil else {
            throw .malformed(line: max(lineNumber, 1), "manifest has no 'algorithm' line (itemcf or usercf)")
        }
        try manifest.validate()
        self = manifest
    }

    /// The keys a manifest accepts, in the order ``description`` writes them (`neighbors` and `k` are also read as
    /// `neighbours`, `normalise` as `normalize`).
    public static let keys = [
        "algorithm", "neighbours", "feedback", "weighting", "normalize", "data", "similarity", "user_feature_weight",
        "user_features", "item_feature_weight", "item_features",
    ]

    /// Reads a manifest from a key → value map (a registry version's manifest), with the keys, values and defaults
    /// of ``init(parsing:)``: `algorithm` is required, every other key optional.
    ///
    /// ```swift
    /// let manifest = try Manifest(values: ["algorithm": "itemcf", "neighbours": "50"])
    /// ```
    ///
    /// - Throws: ``RecommendError`` with code `invalidArgument` whose message names the key and what it allows:
    ///   an unknown key, an unknown value, a key given twice (`k` and `neighbours`), no `algorithm`, or a
    ///   combination ``validate()`` rejects.
    public init(values: [String: String]) throws(RecommendError) {
        let (manifest, seen) = try Self.applying(values)
        guard seen.contains("algorithm") else {
            throw .invalidArgument("manifest key 'algorithm' is required: itemcf or usercf")
        }
        try manifest.validate()
        self = manifest
    }

    /// Checks the keys and values of a partial manifest, such as a model's default manifest that each version's
    /// keys complete: every key must be known and every value allowed (K in range too); `algorithm` may be left to
    /// the versions, and the combination is checked when a version is read with ``init(values:)``.
    ///
    /// - Throws: ``RecommendError`` with code `invalidArgument` naming the key and what it allows.
    public static func check(partial values: [String: String]) throws(RecommendError) {
        let (manifest, seen) = try Self.applying(values)
        if seen.contains("neighbours") {
            try Manifest(algorithm: .itemCF, neighbours: manifest.neighbours).validate()
        }
        if seen.contains("algorithm") {
            try manifest.validate()
        }
    }

    private static func applying(_ values: [String: String]) throws(RecommendError) -> (Manifest, Set<String>) {
        var manifest = Manifest(algorithm: .itemCF)
        var seen: [String: String] = [:]
        for (rawKey, rawValue) in values.sorted(by: { $0.key < $1.key }) {
            let key = rawKey.trimmingSpaces().lowercased()
            let canonical = Self.canonicalKey(key)
            if let first = seen[canonical] {
                throw .invalidArgument("manifest keys '\(first)' and '\(rawKey)' both set '\(canonical)'; keep one")
            }
            seen[canonical] = rawKey
            if let problem = manifest.apply(key: canonical, value: rawValue.trimmingSpaces()) {
                throw .invalidArgument("manifest \(problem)")
            }
        }
        return (manifest, Set(seen.keys))
    }

    private static func canonicalKey(_ key: String) -> String {
        switch key {
        case "neighbors", "k": "neighbours"
        case "normalise": "normalize"
        default: key
        }
    }

    /// Sets one key; returns what is wrong (naming the key and what it allows), or nil.
    private mutating func apply(key: String, value: String) -> String? {
        let lowered = value.lowercased()
        switch key {
        case "algorithm":
            guard let algorithm = Algorithm(rawValue: lowered) else {
                return "key 'algorithm': unknown algorithm '\(value)' (allowed: itemcf, usercf)"
            }
            self.algorithm = algorithm
        case "neighbours":
            guard let neighbours = Int(value) else {
                return "key 'neighbours': '\(value)' is not an integer (allowed: 1...\(Self.maximumNeighbours))"
            }
            self.neighbours = neighbours
        case "feedback":
            guard let feedback = Feedback(rawValue: lowered) else {
                return "key 'feedback': unknown feedback '\(value)' (allowed: implicit, explicit)"
            }
            self.feedback = feedback
        case "weighting":
            guard let weighting = Weighting(rawValue: lowered) else {
                return "key 'weighting': unknown weighting '\(value)' (allowed: none, iuf for itemcf, iif for usercf)"
            }
            self.weighting = weighting
        case "normalize":
            switch lowered {
            case "true", "yes", "on", "1": self.normalize = true
            case "false", "no", "off", "0": self.normalize = false
            default: return "key 'normalize': '\(value)' is not a boolean (allowed: true, false)"
            }
        case "data":
            self.data = value
        case "similarity":
            guard let similarity = Similarity(rawValue: lowered) else {
                let allowed = Similarity.allCases.map(\.rawValue).joined(separator: ", ")
                return "key 'similarity': unknown similarity '\(value)' (allowed: \(allowed))"
            }
            self.similarity = similarity
        case "user_feature_weight", "item_feature_weight":
            guard let weight = Double(value), weight.isFinite, (0...1).contains(weight) else {
                return "key '\(key)': '\(value)' is not a number in 0...1 (allowed: 0 to 1, e.g. 0.2)"
            }
            if key == "user_feature_weight" { self.userFeatureWeight = weight } else { self.itemFeatureWeight = weight }
        case "user_features", "item_features":
            let columns: [FeatureColumn]
            do {
                columns = try FeatureColumn.parse(list: value)
            } catch {
                return "key '\(key)': \(error.message) (allowed: comma-separated columns 'name', 'name/width', 'name[:n]')"
            }
            if key == "user_features" { self.userFeatures = columns } else { self.itemFeatures = columns }
        default:
            return "unknown key '\(key)' (allowed: \(Self.keys.joined(separator: ", ")))"
        }
        return nil
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and carriage returns.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let start = self.firstIndex(where: { !isSpace($0) }) else {
            return ""
        }
        let end = self.lastIndex(where: { !isSpace($0) }) ?? start
        return String(self[start...end])
    }
}

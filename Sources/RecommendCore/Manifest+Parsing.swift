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
            try manifest.apply(key: canonical, value: value, line: lineNumber)
        }
        guard seen["algorithm"] != nil else {
            throw .malformed(line: max(lineNumber, 1), "manifest has no 'algorithm' line (itemcf or usercf)")
        }
        try manifest.validate()
        self = manifest
    }

    private static func canonicalKey(_ key: String) -> String {
        switch key {
        case "neighbors", "k": "neighbours"
        case "normalise": "normalize"
        default: key
        }
    }

    private mutating func apply(key: String, value: String, line: Int) throws(RecommendError) {
        let lowered = value.lowercased()
        switch key {
        case "algorithm":
            guard let algorithm = Algorithm(rawValue: lowered) else {
                throw .malformed(line: line, "unknown algorithm '\(value)' (expected itemcf or usercf)")
            }
            self.algorithm = algorithm
        case "neighbours":
            guard let neighbours = Int(value) else {
                throw .malformed(line: line, "neighbours '\(value)' is not an integer")
            }
            self.neighbours = neighbours
        case "feedback":
            guard let feedback = Feedback(rawValue: lowered) else {
                throw .malformed(line: line, "unknown feedback '\(value)' (expected implicit or explicit)")
            }
            self.feedback = feedback
        case "weighting":
            guard let weighting = Weighting(rawValue: lowered) else {
                throw .malformed(line: line, "unknown weighting '\(value)' (expected none, iuf or iif)")
            }
            self.weighting = weighting
        case "normalize":
            switch lowered {
            case "true", "yes", "on", "1": self.normalize = true
            case "false", "no", "off", "0": self.normalize = false
            default: throw .malformed(line: line, "normalize '\(value)' is not a boolean (true or false)")
            }
        case "data":
            self.data = value
        default:
            throw .malformed(line: line, "unknown key '\(key)'")
        }
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

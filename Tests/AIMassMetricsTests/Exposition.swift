/// The Prometheus text exposition, parsed as a scraper reads it (enough for tests).
struct Exposition {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []
    /// Metric family → help text, and → type.
    var help: [String: String] = [:]
    var types: [String: String] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                help[String(rest[0])] = rest.count > 1 ? String(rest[1]) : ""
            } else if line.hasPrefix("# TYPE ") {
                let rest = line.dropFirst(7).split(separator: " ")
                types[String(rest[0])] = String(rest[1])
            } else if !line.hasPrefix("#"), let sample = Self.sample(line) {
                samples.append(sample)
            }
        }
    }

    /// The value of the one sample named `name` whose labels include `labels`; `nil` when none or several match.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.count == 1 ? matching[0].value : nil
    }

    private static func sample(_ line: Substring) -> Sample? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let series = line[..<space]
        guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
        var labels: [String: String] = [:]
        var rest = series[series.index(after: brace)...].dropLast()  // without the closing brace
        while let equals = rest.firstIndex(of: "=") {
            let key = String(rest[..<equals])
            var index = rest.index(equals, offsetBy: 2)  // past ="
            var value = ""
            while rest[index] != "\"" {
                if rest[index] == "\\" { index = rest.index(after: index) }
                value.append(rest[index])
                index = rest.index(after: index)
            }
            labels[key] = value
            rest = rest[rest.index(after: index)...]
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }
}

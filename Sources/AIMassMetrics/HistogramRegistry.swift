import Synchronization

/// The process's ``AtomicHistogram``s by metric name and labels, written out in the Prometheus text format.
///
/// Asking twice for the same name and labels returns the same histogram (as swift-metrics expects: replicas of one
/// model version share their series). Only making, removing and writing out take the lock; recording does not.
final class HistogramRegistry: Sendable {
    /// How a family's bucket bounds and sums are written.
    enum Unit: Sendable {
        /// Nanoseconds, written in seconds (`le="0.0006"`, as swift-prometheus wrote them).
        case seconds
        /// Plain numbers, written as Swift doubles (`le="2048.0"`, as swift-prometheus wrote them).
        case plain
    }

    private struct Series {
        /// `key="value",…`, escaped, in the order given.
        var renderedLabels: String
        var histogram: AtomicHistogram
    }

    private struct Family {
        var help: String
        var unit: Unit
        /// Series in the order they were made, by their rendered labels.
        var series: [Series] = []
        var index: [String: Int] = [:]
    }

    private let families = Mutex<[String: Family]>([:])

    /// The histogram `name{labels}`, made with `bounds` on first use.
    func histogram(name: String, help: String, unit: Unit, labels: [(String, String)], bounds: [Int64])
        -> AtomicHistogram
    {
        let rendered = Self.render(labels)
        return families.withLock { families in
            var family = families[name] ?? Family(help: help, unit: unit)
            if let existing = family.index[rendered] { return family.series[existing].histogram }
            let made = AtomicHistogram(bounds: bounds)
            family.index[rendered] = family.series.count
            family.series.append(Series(renderedLabels: rendered, histogram: made))
            families[name] = family
            return made
        }
    }

    /// Forgets `histogram` (swift-metrics' `destroy`): its series is no longer written out.
    func remove(_ histogram: AtomicHistogram) {
        families.withLock { families in
            for (name, var family) in families {
                guard let position = family.series.firstIndex(where: { $0.histogram === histogram }) else { continue }
                family.series.remove(at: position)
                family.index = Dictionary(
                    uniqueKeysWithValues: family.series.enumerated().map { ($0.element.renderedLabels, $0.offset) }
                )
                families[name] = family.series.isEmpty ? nil : family
                return
            }
        }
    }

    /// Every family, sorted by name, in the Prometheus text exposition format (version 0.0.4).
    func write(into buffer: inout [UInt8]) {
        let families = families.withLock { $0 }
        for (name, family) in families.sorted(by: { $0.key < $1.key }) {
            buffer.append(contentsOf: "# HELP \(name) \(family.help)\n# TYPE \(name) histogram\n".utf8)
            for series in family.series {
                Self.write(name: name, series: series, unit: family.unit, into: &buffer)
            }
        }
    }

    private static func write(name: String, series: Series, unit: Unit, into buffer: inout [UInt8]) {
        let histogram = series.histogram
        let snapshot = histogram.snapshot()
        let prefix = series.renderedLabels.isEmpty ? "" : series.renderedLabels + ","
        for (bound, count) in zip(histogram.bounds, snapshot.cumulative) {
            buffer.append(contentsOf: "\(name)_bucket{\(prefix)le=\"\(format(bound, unit))\"} \(count)\n".utf8)
        }
        buffer.append(contentsOf: "\(name)_bucket{\(prefix)le=\"+Inf\"} \(snapshot.count)\n".utf8)
        let labels = series.renderedLabels.isEmpty ? "" : "{\(series.renderedLabels)}"
        let sum: String =
            switch unit {
            case .seconds: format(Int64(truncatingIfNeeded: snapshot.integralSum), .seconds)
            case .plain: (Double(snapshot.integralSum) + snapshot.fractionalSum).description
            }
        buffer.append(contentsOf: "\(name)_sum\(labels) \(sum)\n\(name)_count\(labels) \(snapshot.count)\n".utf8)
    }

    /// A bound or sum in `unit`: nanoseconds as decimal seconds (`1.0`, `0.0006`), plain values as doubles.
    static func format(_ value: Int64, _ unit: Unit) -> String {
        switch unit {
        case .plain:
            return Double(value).description
        case .seconds:
            let sign = value < 0 ? "-" : ""
            let magnitude = value.magnitude
            let seconds = magnitude / 1_000_000_000
            var fraction = String(magnitude % 1_000_000_000)
            fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
            while fraction.count > 1, fraction.hasSuffix("0") { fraction.removeLast() }
            return "\(sign)\(seconds).\(fraction)"
        }
    }

    /// Labels as the text format writes them: `key="value"`, comma-separated, the value's `\`, `"` and line feeds
    /// escaped.
    static func render(_ labels: [(String, String)]) -> String {
        labels.map { key, value in
            var escaped = String.UnicodeScalarView()
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\\": escaped.append(contentsOf: "\\\\".unicodeScalars)
                case "\"": escaped.append(contentsOf: "\\\"".unicodeScalars)
                case "\n": escaped.append(contentsOf: "\\n".unicodeScalars)
                default: escaped.append(scalar)
                }
            }
            return "\(key)=\"\(String(escaped))\""
        }.joined(separator: ",")
    }
}

import Foundation
public import Histogram

/// Latencies in nanoseconds on an HdrHistogram (three significant digits: 0.1 % resolution at any magnitude).
///
/// Values are recorded per task and merged, so no lock is taken per sample:
///
/// ```swift
/// var local = LatencyHistogram()
/// local.record(.milliseconds(3))
/// total.merge(local)
/// print("p99 \(total.formatted(atPercentile: 0.99))")
/// ```
public struct LatencyHistogram: Sendable {
    /// The HdrHistogram itself, for what this wrapper does not offer.
    public private(set) var histogram: Histogram<UInt64>

    public init() {
        self.histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        self.histogram.autoResize = true
    }

    /// A histogram of durations given in seconds (as `MonotonicTime` differences are).
    public init(seconds: some Sequence<Double>) {
        self.init()
        for value in seconds { self.record(seconds: value) }
    }

    /// How many values were recorded.
    public var count: Int { Int(self.histogram.totalCount) }

    public mutating func record(nanoseconds: UInt64) { _ = self.histogram.record(nanoseconds) }

    public mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanos = max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000
        self.record(nanoseconds: UInt64(nanos))
    }

    public mutating func record(seconds: Double) {
        self.record(nanoseconds: seconds > 0 ? UInt64(seconds * 1e9) : 0)
    }

    public mutating func merge(_ other: LatencyHistogram) { self.histogram.add(other.histogram) }

    /// The value at quantile `p` (0…1) in nanoseconds, 0 when empty.
    public func nanoseconds(atPercentile p: Double) -> UInt64 {
        self.count == 0 ? 0 : self.histogram.valueAtPercentile(p * 100)
    }

    /// The value at quantile `p` (0…1) in seconds, NaN when empty.
    public func seconds(atPercentile p: Double) -> Double {
        self.count == 0 ? .nan : Double(self.nanoseconds(atPercentile: p)) / 1e9
    }

    /// The value at quantile `p` (0…1) as `1.234 ms`, or `-` when empty.
    public func formatted(atPercentile p: Double) -> String {
        self.count == 0 ? "-" : Self.milliseconds(self.nanoseconds(atPercentile: p))
    }

    /// The largest value recorded as `1.234 ms`, or `-` when empty.
    public var formattedMax: String { self.count == 0 ? "-" : Self.milliseconds(self.histogram.max) }

    /// Nanoseconds as `1.234 ms`.
    public static func milliseconds(_ nanoseconds: UInt64) -> String {
        String(format: "%.3f ms", Double(nanoseconds) / 1e6)
    }
}

import Metrics
import Synchronization

/// A Prometheus histogram that a call records into without a lock: one relaxed atomic add on the bucket the value
/// falls in and one on the sum. Buckets are cumulated when the histogram is written out (``snapshot()``), not when a
/// value is recorded, so a record costs the same whatever the number of buckets.
///
/// swift-prometheus's own histogram takes a lock and adds one to every bucket at or above the value (41 for A66's
/// latency buckets) on each record; four of them per gRPC call were most of what metrics cost per call
/// (docs/benchmarks.md, "Metrics overhead").
///
/// Values are integers in the histogram's unit: nanoseconds for durations, the value itself (bytes, counts) for the
/// others; a fractional value (``record(_:)-(Double)``) goes to its bucket and adds to a separate floating-point sum.
public final class AtomicHistogram: TimerHandler, RecorderHandler, @unchecked Sendable {
    // @unchecked: `slots` is written only through atomics, allocated in init and freed in deinit (its one owner).

    /// The buckets' upper bounds (inclusive), ascending, in the histogram's unit.
    let bounds: [Int64]
    /// `bounds.count + 1` counts (the last one is `+Inf`'s own), then the integer sum, then the bit pattern of the
    /// floating-point sum.
    private let slots: UnsafeMutablePointer<Atomic<Int>>
    private var sumIndex: Int { bounds.count + 1 }
    private var fractionalSumIndex: Int { bounds.count + 2 }

    /// A histogram with these upper bounds (sorted here; duplicates removed).
    init(bounds: [Int64]) {
        self.bounds = Array(Set(bounds)).sorted()
        let count = self.bounds.count + 3
        slots = .allocate(capacity: count)
        for index in 0..<count { (slots + index).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: bounds.count + 3)
        slots.deallocate()
    }

    /// The index of the first bucket whose bound is at or above `value` (`bounds.count` for `+Inf`).
    @inline(__always)
    private func bucket(of value: Int64) -> Int {
        var index = 0
        while index < bounds.count, bounds[index] < value { index += 1 }
        return index
    }

    /// Records `value` (in the histogram's unit).
    public func record(_ value: Int64) {
        slots[bucket(of: value)].wrappingAdd(1, ordering: .relaxed)
        slots[sumIndex].wrappingAdd(Int(value), ordering: .relaxed)
    }

    public func record(_ value: Double) {
        guard value.isFinite else { return }
        if value == value.rounded(), let integral = Int64(exactly: value) { return record(integral) }
        var index = 0
        while index < bounds.count, Double(bounds[index]) < value { index += 1 }
        slots[index].wrappingAdd(1, ordering: .relaxed)
        var bits = slots[fractionalSumIndex].load(ordering: .relaxed)
        while true {
            let next = Int(bitPattern: UInt((Double(bitPattern: UInt64(UInt(bitPattern: bits))) + value).bitPattern))
            let (exchanged, original) = slots[fractionalSumIndex].weakCompareExchange(
                expected: bits, desired: next, ordering: .relaxed
            )
            if exchanged { return }
            bits = original
        }
    }

    public func recordNanoseconds(_ duration: Int64) { record(duration) }

    /// What the histogram holds now, its buckets cumulated.
    struct Snapshot {
        /// Per bound, the number of values at or below it.
        var cumulative: [Int]
        /// Every value recorded (`+Inf`'s bucket).
        var count: Int
        var integralSum: Int
        var fractionalSum: Double
    }

    /// The counts read now (each atomically; a call recording meanwhile may show in its bucket and not yet in the sum).
    func snapshot() -> Snapshot {
        var cumulative: [Int] = []
        cumulative.reserveCapacity(bounds.count)
        var running = 0
        for index in 0..<bounds.count {
            running += slots[index].load(ordering: .relaxed)
            cumulative.append(running)
        }
        running += slots[bounds.count].load(ordering: .relaxed)
        let fractionalBits = slots[fractionalSumIndex].load(ordering: .relaxed)
        return Snapshot(
            cumulative: cumulative, count: running, integralSum: slots[sumIndex].load(ordering: .relaxed),
            fractionalSum: Double(bitPattern: UInt64(UInt(bitPattern: fractionalBits)))
        )
    }
}

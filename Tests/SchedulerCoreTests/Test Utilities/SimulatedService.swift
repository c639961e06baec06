import SchedulerCore
import TestSupport


/// A replica simulated in virtual time behind an ``AdmissionController``: `threads` calls run at once, each for
/// `service × (1 ± jitter)` seconds (uniform); more wait first in, first out for a thread, as on the worker's
/// inference executor. Enough closed-loop callers keep every slot the limit allows busy. Each call reports its
/// latency and its service time, as the worker's replica source does.
struct SimulatedService {
    /// What one phase of a run showed.
    struct Phase {
        /// Mean of the admission limit over the phase's second half.
        var meanLimit: Double
        /// Calls answered per second over the phase's second half.
        var throughput: Double
        /// Median latency over the phase's second half, in seconds.
        var medianLatency: Double
    }

    private struct Call {
        var ticket: AdmissionTicket
        var start: Double
        var duration = 0.0
    }

    let admission: AdmissionController
    var service: Double
    var jitter: Double
    var callers: Int
    private var random = SplitMix64(seed: 42)
    private var now = 0.0
    private var running: [(end: Double, call: Call)] = []
    private var waiting: [Call] = []
    private var inFlight: Int { running.count + waiting.count }

    init(admission: AdmissionController, service: Double, jitter: Double, callers: Int = 64) {
        self.admission = admission
        self.service = service
        self.jitter = jitter
        self.callers = callers
    }

    /// Runs `seconds` of virtual time with `threads` threads and reports the phase.
    mutating func run(seconds: Double, threads: Int) -> Phase {
        let end = now + seconds
        let measureFrom = now + seconds / 2
        var limits = 0.0
        var samples = 0
        var latencies: [Double] = []
        fill(threads: threads)
        while let next = running.indices.min(by: { running[$0].end < running[$1].end }), running[next].end <= end {
            let done = running.remove(at: next)
            now = done.end
            admission.release(
                done.call.ticket, latency: now - done.call.start, serviceTime: done.call.duration, now: now
            )
            if now >= measureFrom {
                limits += Double(admission.limit)
                samples += 1
                latencies.append(now - done.call.start)
            }
            fill(threads: threads)
        }
        now = end
        latencies.sort()
        return Phase(
            meanLimit: samples == 0 ? 0 : limits / Double(samples),
            throughput: Double(latencies.count) / (seconds / 2),
            medianLatency: latencies.isEmpty ? 0 : latencies[latencies.count / 2]
        )
    }

    /// Admits callers up to the limit, then starts waiting calls on free threads.
    private mutating func fill(threads: Int) {
        while inFlight < min(callers, admission.limit) {
            guard case .admitted(let ticket) = admission.admit(priority: 2, deadline: nil, now: now) else { break }
            waiting.append(Call(ticket: ticket, start: now))
        }
        while running.count < threads, !waiting.isEmpty {
            var call = waiting.removeFirst()
            call.duration = service * (1 + Double.random(in: -jitter...jitter, using: &random))
            running.append((now + call.duration, call))
        }
    }
}

import Metrics
import RPCHTTP2
import Synchronization

/// What the gRPC servers of the process refused or closed to protect themselves (their ``AbuseCounters``), as
/// Prometheus counters:
///
/// - `aimass_http2_rapid_resets_total`: streams the clients reset before they were answered
/// - `aimass_http2_invalid_frames_total`: frames nghttp2 refused as stream errors
/// - `aimass_http2_header_lists_refused_total`: request header lists over the server's limit
/// - `aimass_http2_abuse_goaways_total{reason}`: connections closed with GOAWAY(ENHANCE_YOUR_CALM) for passing an
///   abuse limit, by the GOAWAY's debug data (`too_many_resets`, `too_many_invalid_frames`, …)
/// - `aimass_http2_connections_evicted_total`: connections closed to make room (the connection cap, or the process
///   out of file descriptors)
///
/// The servers keep their own running totals (one relaxed atomic each, on their I/O threads); ``update()`` reads them
/// and adds what is new to the counters, so call it just before each scrape is rendered: the I/O path pays nothing
/// more for being exported. Every series exists from the start, at 0.
///
/// ```swift
/// let abuse = HTTP2AbuseMetrics()
/// abuse.watch(server.abuseCounters)
/// let listener = MetricsHTTPServer(host: "127.0.0.1", port: 0) { abuse.update(); return exporter.render() }
/// ```
public final class HTTP2AbuseMetrics: Sendable {
    /// The counted totals, summed over every watched server.
    struct Totals: Hashable {
        var rapidResets = 0
        var invalidFrames = 0
        var headerListsRefused = 0
        var evicted = 0
        var goAways: [String: Int] = [:]

        init() {}

        init(summing sources: [AbuseCounters]) {
            for source in sources {
                rapidResets += source.rapidResetsSeen
                invalidFrames += source.invalidFramesSeen
                headerListsRefused += source.oversizedHeaderListsRefused
                evicted += source.connectionsEvicted
                for reason in AbuseCounters.goAwayReasons {
                    goAways[reason, default: 0] += source.connectionsClosed(for: reason)
                }
            }
        }
    }

    private struct State {
        var sources: [AbuseCounters] = []
        /// What the counters hold already.
        var exported = Totals()
    }

    private let state = Mutex(State())
    private let rapidResets: Counter
    private let invalidFrames: Counter
    private let headerListsRefused: Counter
    private let evicted: Counter
    private let goAways: [String: Counter]

    /// Counters made by `factory` (the process's, `MetricsSystem.factory`, by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        rapidResets = Counter(label: "aimass_http2_rapid_resets_total", factory: factory)
        invalidFrames = Counter(label: "aimass_http2_invalid_frames_total", factory: factory)
        headerListsRefused = Counter(label: "aimass_http2_header_lists_refused_total", factory: factory)
        evicted = Counter(label: "aimass_http2_connections_evicted_total", factory: factory)
        var goAways: [String: Counter] = [:]
        for reason in AbuseCounters.goAwayReasons {
            goAways[reason] = Counter(label: "aimass_http2_abuse_goaways_total", dimensions: [("reason", reason)], factory: factory)
        }
        self.goAways = goAways
    }

    /// Exports `counters` (a server's ``RPCServer/abuseCounters``) from now on, added to those already watched.
    public func watch(_ counters: AbuseCounters) {
        state.withLock { $0.sources.append(counters) }
    }

    /// Brings the counters up to the servers' totals.
    public func update() {
        state.withLock { state in
            let now = Totals(summing: state.sources)
            let before = state.exported
            Self.add(now.rapidResets - before.rapidResets, to: rapidResets)
            Self.add(now.invalidFrames - before.invalidFrames, to: invalidFrames)
            Self.add(now.headerListsRefused - before.headerListsRefused, to: headerListsRefused)
            Self.add(now.evicted - before.evicted, to: evicted)
            for (reason, counter) in goAways {
                Self.add(now.goAways[reason, default: 0] - before.goAways[reason, default: 0], to: counter)
            }
            state.exported = now
        }
    }

    private static func add(_ delta: Int, to counter: Counter) {
        // The servers' totals only grow; a counter never goes back.
        if delta > 0 { counter.increment(by: delta) }
    }
}

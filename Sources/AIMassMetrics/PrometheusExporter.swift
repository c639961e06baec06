import Metrics
import Prometheus
import RPCCore

/// swift-metrics' factory for AI Mass: swift-prometheus's registry for counters and gauges, and our own lock-free
/// ``AtomicHistogram``s for timers and aggregating recorders, with each metric's help text and buckets from
/// ``MetricCatalog`` (swift-prometheus's own factory exports no help text, which `promtool check metrics` refuses).
///
/// ```swift
/// let exporter = PrometheusExporter()
/// MetricsSystem.bootstrap(exporter)      // once per process
/// Counter(label: "aimass_registry_uploads_total", dimensions: [("model", "films")]).increment()
/// let text = String(decoding: exporter.render(), as: UTF8.self)
/// ```
public struct PrometheusExporter: MetricsFactory {
    /// Where the metrics live; ``render()`` writes them out.
    public let registry: PrometheusCollectorRegistry
    /// The histograms (written out after the registry's counters and gauges).
    let histograms = HistogramRegistry()

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4).
    public func render() -> [UInt8] {
        var buffer = registry.emitToBuffer()
        histograms.write(into: &buffer)
        return buffer
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: Self.descriptor(label), labels: dimensions) }
        return histograms.histogram(
            name: label, help: MetricCatalog.help(label), unit: .plain, labels: dimensions,
            bounds: MetricCatalog.valueBuckets(label)
        )
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        histograms.histogram(
            name: label, help: MetricCatalog.help(label), unit: .seconds, labels: dimensions,
            bounds: MetricCatalog.durationBuckets(label).map(\.saturatingNanoseconds)
        )
    }

    /// The full name (swift-metrics' label, unchanged) with its help text.
    static func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricCatalog.help(label))
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? AtomicHistogram { histograms.remove(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? AtomicHistogram { histograms.remove(histogram) }
    }
}

import Metrics
import Testing

@testable import AIMassMetrics

@Suite("Lock-free histograms in the Prometheus text format")
struct AtomicHistogramTests {
    @Test("values from many threads at once are all counted, in cumulative buckets that end with the count")
    func concurrentRecords() async throws {
        let exporter = PrometheusExporter()
        let timer = Timer(label: "aimass_inference_duration_seconds", dimensions: [("model", "films")], factory: exporter)
        let tasks = 8
        let perTask = 10_000
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    // Task t records t+1 ms over and over: each task's values land in one known bucket.
                    for _ in 0..<perTask { timer.recordNanoseconds(Int64(task + 1) * 1_000_000) }
                }
            }
        }
        let metrics = Exposition(String(decoding: exporter.render(), as: UTF8.self))
        let labels = ["model": "films"]
        func bucket(_ le: String) -> Double? {
            metrics.value("aimass_inference_duration_seconds_bucket", labels.merging(["le": le]) { $1 })
        }
        #expect(metrics.types["aimass_inference_duration_seconds"] == "histogram")
        #expect(metrics.value("aimass_inference_duration_seconds_count", labels) == Double(tasks * perTask))
        #expect(bucket("+Inf") == Double(tasks * perTask))
        #expect(bucket("0.0008") == 0)
        #expect(bucket("0.001") == Double(perTask))  // 1 ms: at or below the bound
        #expect(bucket("0.002") == Double(2 * perTask))
        #expect(bucket("0.008") == Double(tasks * perTask))
        let expectedSum = Double((1...tasks).reduce(0, +) * perTask) / 1000
        let sum = try #require(metrics.value("aimass_inference_duration_seconds_sum", labels))
        #expect(abs(sum - expectedSum) < 1e-9)
    }

    @Test("the same name and labels share one series; label values are escaped; destroyed series disappear")
    func seriesIdentity() throws {
        let exporter = PrometheusExporter()
        let first = Recorder(label: "grpc_server_call_sent_total_compressed_message_size_bytes",
                             dimensions: [("grpc_method", "a\"b\\c")], factory: exporter)
        let second = Recorder(label: "grpc_server_call_sent_total_compressed_message_size_bytes",
                              dimensions: [("grpc_method", "a\"b\\c")], factory: exporter)
        first.record(100)
        second.record(5000.5)
        let text = String(decoding: exporter.render(), as: UTF8.self)
        #expect(text.contains(#"grpc_method="a\"b\\c""#))
        let metrics = Exposition(text)
        let labels = ["grpc_method": "a\"b\\c"]
        #expect(metrics.value("grpc_server_call_sent_total_compressed_message_size_bytes_count", labels) == 2)
        #expect(metrics.value("grpc_server_call_sent_total_compressed_message_size_bytes_sum", labels) == 5100.5)
        #expect(metrics.value("grpc_server_call_sent_total_compressed_message_size_bytes_bucket",
                              labels.merging(["le": "1024.0"]) { $1 }) == 1)
        #expect(metrics.value("grpc_server_call_sent_total_compressed_message_size_bytes_bucket",
                              labels.merging(["le": "16384.0"]) { $1 }) == 2)
        // One HELP and one TYPE line for the family.
        #expect(text.components(separatedBy: "# TYPE grpc_server_call_sent_total_compressed_message_size_bytes ").count == 2)
        first.destroy()
        #expect(!String(decoding: exporter.render(), as: UTF8.self).contains("grpc_server_call_sent_total"))
    }

    @Test("durations are written as decimal seconds")
    func secondsFormat() {
        #expect(HistogramRegistry.format(600_000, .seconds) == "0.0006")
        #expect(HistogramRegistry.format(1_000_000_000, .seconds) == "1.0")
        #expect(HistogramRegistry.format(100_000_000_000, .seconds) == "100.0")
        #expect(HistogramRegistry.format(10_000, .seconds) == "0.00001")
        #expect(HistogramRegistry.format(1_500_000_001, .seconds) == "1.500000001")
        #expect(HistogramRegistry.format(0, .seconds) == "0.0")
    }
}

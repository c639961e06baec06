import Metrics
import RPCCore
import RPCHTTP2
import RPCHealth
import Testing

@testable import AIMassMetrics

@Suite("gRPC metrics (gRFC A66) through a real server and client")
struct GRPCMetricsTests {
    @Test("counts each method's calls, statuses and message sizes; unknown paths as `other`; the client's attempts")
    func serverAndClientInstruments() async throws {
        let exporter = PrometheusExporter()
        let health = HealthService()
        health.setStatus(.serving, for: "")
        let server = RPCServer(
            configuration: .defaults { $0.port = 0 }, services: [health], metrics: GRPCServerMetrics(factory: exporter)
        )
        let port = try #require(try await server.start().port)
        ClientMetrics.install(GRPCClientMetrics(factory: exporter))
        let client = RPCClient(host: "127.0.0.1", port: port)
        ClientMetrics.install(nil)
        let check = MethodDescriptor(service: HealthService.serviceName, method: "Check")
        let calls = 7
        for _ in 0..<calls {
            let response: HealthCheckResponse = try await client.unary(check, request: HealthCheckRequest())
            #expect(response.status == .serving)
        }
        await #expect(throws: RPCError.self) {
            let _: HealthCheckResponse = try await client.unary(check, request: HealthCheckRequest(service: "absent"))
        }
        let unknown = MethodDescriptor(service: "no.such.Service", method: "Call")
        await #expect(throws: RPCError.self) {
            let _: HealthCheckResponse = try await client.unary(unknown, request: HealthCheckRequest())
        }
        await client.close()
        await server.shutdown()

        let text = String(decoding: exporter.render(), as: UTF8.self)
        let metrics = Exposition(text)
        let method = "grpc.health.v1.Health/Check"
        #expect(metrics.value("grpc_server_call_started_total", ["grpc_method": method]) == Double(calls + 1))
        let ok = ["grpc_method": method, "grpc_status": "OK"]
        #expect(metrics.value("grpc_server_call_duration_seconds_count", ok) == Double(calls))
        #expect(metrics.value("grpc_server_call_duration_seconds_bucket", ok.merging(["le": "+Inf"]) { $1 }) == Double(calls))
        let notFound = ["grpc_method": method, "grpc_status": "NOT_FOUND"]
        #expect(metrics.value("grpc_server_call_duration_seconds_count", notFound) == 1)
        // A SERVING response is 2 bytes (field 1, varint 1); an empty request is 0.
        #expect(metrics.value("grpc_server_call_sent_total_compressed_message_size_bytes_sum", ok) == Double(2 * calls))
        #expect(metrics.value("grpc_server_call_rcvd_total_compressed_message_size_bytes_sum", ok) == 0)
        #expect(metrics.value("grpc_server_call_rcvd_total_compressed_message_size_bytes_count", ok) == Double(calls))
        // "absent" as field 1: 2 + 6 bytes.
        #expect(metrics.value("grpc_server_call_rcvd_total_compressed_message_size_bytes_sum", notFound) == 8)
        let other = ["grpc_method": "other", "grpc_status": "UNIMPLEMENTED"]
        #expect(metrics.value("grpc_server_call_duration_seconds_count", other) == 1)
        let serverLines = text.split(separator: "\n").filter { $0.hasPrefix("grpc_server_") }
        #expect(!serverLines.contains { $0.contains("no.such.Service") }, "an unknown path never becomes a server label value")
        #expect(metrics.value("grpc_server_call_started_total", ["grpc_method": "other"]) == 1)
        // Registered but never called: started at 0, and no duration series yet.
        #expect(metrics.value("grpc_server_call_started_total", ["grpc_method": "grpc.health.v1.Health/List"]) == 0)
        #expect(metrics.value("grpc_server_call_duration_seconds_count", ["grpc_method": "grpc.health.v1.Health/List"]) == nil)

        #expect(metrics.value("aimass_http2_connections_total") == 1)
        #expect(metrics.value("aimass_http2_connections_open") == 0)
        #expect(metrics.value("aimass_http2_streams_total") == Double(calls + 2))
        #expect(metrics.value("aimass_http2_streams_open") == 0)
        #expect(metrics.value("aimass_http2_frames_rejected_total") == 0)

        let target = "127.0.0.1:\(port)"
        #expect(metrics.value("grpc_client_attempt_started_total", ["grpc_method": method, "grpc_target": target]) == Double(calls + 1))
        let clientOK = ["grpc_method": method, "grpc_target": target, "grpc_status": "OK"]
        #expect(metrics.value("grpc_client_call_duration_seconds_count", clientOK) == Double(calls))
        #expect(metrics.value("grpc_client_attempt_duration_seconds_count", clientOK) == Double(calls))
        let clientUnimplemented = ["grpc_method": "no.such.Service/Call", "grpc_target": target, "grpc_status": "UNIMPLEMENTED"]
        #expect(metrics.value("grpc_client_call_duration_seconds_count", clientUnimplemented) == 1)

        // Every family has a help text and a type: what `promtool check metrics` asks for.
        for family in metrics.types.keys {
            #expect(!(metrics.help[family] ?? "").isEmpty, "\(family) has no help text")
        }
        #expect(metrics.types["grpc_server_call_duration_seconds"] == "histogram")
        #expect(metrics.types["grpc_server_call_started_total"] == "counter")
        #expect(metrics.types["aimass_http2_streams_open"] == "gauge")
    }

    @Test("durations land in A66's buckets, in seconds")
    func durationBuckets() throws {
        let exporter = PrometheusExporter()
        let instruments = GRPCServerMetrics(factory: exporter).instruments(for: MethodDescriptor(service: "demo.S", method: "M"))
        instruments.callStarted()
        instruments.callEnded(EndedCall(code: .resourceExhausted, duration: .microseconds(700), sentMessageBytes: 3000))
        let metrics = Exposition(String(decoding: exporter.render(), as: UTF8.self))
        let labels = ["grpc_method": "demo.S/M", "grpc_status": "RESOURCE_EXHAUSTED"]
        #expect(metrics.value("grpc_server_call_duration_seconds_bucket", labels.merging(["le": "0.0006"]) { $1 }) == 0)
        #expect(metrics.value("grpc_server_call_duration_seconds_bucket", labels.merging(["le": "0.0008"]) { $1 }) == 1)
        #expect(metrics.value("grpc_server_call_duration_seconds_sum", labels) == 0.0007)
        #expect(metrics.value("grpc_server_call_sent_total_compressed_message_size_bytes_bucket", labels.merging(["le": "2048.0"]) { $1 }) == 0)
        #expect(metrics.value("grpc_server_call_sent_total_compressed_message_size_bytes_bucket", labels.merging(["le": "4096.0"]) { $1 }) == 1)
    }
}

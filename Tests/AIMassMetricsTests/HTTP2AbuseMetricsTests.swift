import Metrics
import RPCCore
import RPCHTTP2
import RPCHealth
import Testing

@testable import AIMassMetrics

@Suite("A server's abuse counters as Prometheus counters")
struct HTTP2AbuseMetricsTests {
    @Test("an oversized header list and a connection closed for room are counted when scraped, each once")
    func refusedHeaderListAndEviction() async throws {
        let exporter = PrometheusExporter()
        let abuse = HTTP2AbuseMetrics(factory: exporter)
        let health = HealthService()
        health.setStatus(.serving, for: "")
        let server = RPCServer(configuration: .defaults { $0.port = 0; $0.maxConnections = 1 }, services: [health])
        abuse.watch(server.abuseCounters)
        let port = try #require(try await server.start().port)
        func scrape() -> Exposition {
            abuse.update()
            return Exposition(String(decoding: exporter.render(), as: UTF8.self))
        }

        // Every series from the start, at 0, as counters with a help text.
        var metrics = scrape()
        let names = [
            "aimass_http2_rapid_resets_total", "aimass_http2_invalid_frames_total",
            "aimass_http2_header_lists_refused_total", "aimass_http2_connections_evicted_total",
        ]
        for name in names {
            #expect(metrics.value(name) == 0, "\(name)")
            #expect(metrics.types[name] == "counter" && !(metrics.help[name] ?? "").isEmpty, "\(name)")
        }
        #expect(AbuseCounters.goAwayReasons.contains("too_many_resets"))
        for reason in AbuseCounters.goAwayReasons {
            #expect(metrics.value("aimass_http2_abuse_goaways_total", ["reason": reason]) == 0, "\(reason)")
        }

        // 20 KB of metadata: over the 16 KiB header-list limit, refused with RESOURCE_EXHAUSTED.
        let check = MethodDescriptor(service: HealthService.serviceName, method: "Check")
        let first = RPCClient(host: "127.0.0.1", port: port)
        let big = CallOptions(metadata: ["x-big": .string(String(repeating: "v", count: 20_000))])
        let refused = await #expect(throws: RPCError.self) {
            let _: HealthCheckResponse = try await first.unary(check, request: HealthCheckRequest(), options: big)
        }
        #expect(refused?.code == .resourceExhausted)
        metrics = scrape()
        #expect(metrics.value("aimass_http2_header_lists_refused_total") == 1)
        #expect(metrics.value("aimass_http2_connections_evicted_total") == 0)

        // A second connection, with the cap at one: the first (idle) one is closed to make room.
        let second = RPCClient(host: "127.0.0.1", port: port)
        let response: HealthCheckResponse = try await second.unary(check, request: HealthCheckRequest())
        #expect(response.status == .serving)
        metrics = scrape()
        #expect(metrics.value("aimass_http2_connections_evicted_total") == 1)
        #expect(metrics.value("aimass_http2_header_lists_refused_total") == 1)
        // Scraped again with nothing new: the counters hold, nothing is added twice.
        #expect(scrape().value("aimass_http2_connections_evicted_total") == 1)
        #expect(scrape().value("aimass_http2_header_lists_refused_total") == 1)
        await first.close()
        await second.close()
        await server.shutdown()
    }

    @Test("several servers' totals are summed")
    func severalServers() async throws {
        let exporter = PrometheusExporter()
        let abuse = HTTP2AbuseMetrics(factory: exporter)
        let check = MethodDescriptor(service: HealthService.serviceName, method: "Check")
        let big = CallOptions(metadata: ["x-big": .string(String(repeating: "v", count: 20_000))])
        var servers: [RPCServer] = []
        for _ in 0..<2 {
            let server = RPCServer(configuration: .defaults { $0.port = 0 }, services: [HealthService()])
            abuse.watch(server.abuseCounters)
            let port = try #require(try await server.start().port)
            let client = RPCClient(host: "127.0.0.1", port: port)
            await #expect(throws: RPCError.self) {
                let _: HealthCheckResponse = try await client.unary(check, request: HealthCheckRequest(), options: big)
            }
            await client.close()
            servers.append(server)
        }
        abuse.update()
        let metrics = Exposition(String(decoding: exporter.render(), as: UTF8.self))
        #expect(metrics.value("aimass_http2_header_lists_refused_total") == 2)
        for server in servers { await server.shutdown() }
    }
}

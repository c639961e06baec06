import Testing

@testable import AIMassTracing

@Suite("W3C trace context")
struct TraceContextTests {
    @Test("a traceparent round-trips, flags and all")
    func roundTrip() throws {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let context = try #require(TraceContext(traceparent: header, traceState: "congo=t61rcWkgMzE"))
        #expect(context.traceID.hex == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.spanID.hex == "00f067aa0ba902b7")
        #expect(context.sampled)
        #expect(context.traceparent == header)
        #expect(context.traceState == "congo=t61rcWkgMzE")
        #expect(context.traceID.bytes.prefix(2) == [0x4b, 0xf9])
        #expect(context.spanID.bytes.suffix(2) == [0x02, 0xb7])
        let unsampled = try #require(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
        #expect(!unsampled.sampled)
    }

    @Test(
        "a malformed traceparent is refused, so the receiver starts a new trace",
        arguments: [
            "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span id
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // the forbidden version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 has exactly four fields
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01extra",  // a later version separates with '-'
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ])
    func malformed(header: String) {
        #expect(TraceContext(traceparent: header) == nil)
    }

    @Test("a later version is read by its first four fields")
    func laterVersion() throws {
        let context = try #require(
            TraceContext(traceparent: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"))
        #expect(context.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    }

    @Test("random ids are never zero and print as fixed-width lowercase hex")
    func randomIDs() {
        for _ in 0..<100 {
            let trace = TraceID.random()
            let span = SpanID.random()
            #expect(trace.hex.count == 32 && span.hex.count == 16)
            #expect(trace.hex == trace.hex.lowercased())
            #expect(TraceContext(traceparent: TraceContext(traceID: trace, spanID: span, sampled: true).traceparent)?
                .traceID == trace)
        }
    }
}

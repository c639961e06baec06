import AIMassAPI
import Foundation
import RPCCore
import Testing

@testable import AIMassConsole

@Suite("How Mesh/Watch events become server-sent events")
struct ServerSentEventsTests {
    private func data(_ frame: String) throws -> [String: Any] {
        let line = try #require(frame.split(separator: "\n").first { $0.hasPrefix("data: ") })
        let object = try JSONSerialization.jsonObject(with: Data(line.dropFirst("data: ".count).utf8))
        return try #require(object as? [String: Any])
    }

    @Test("a change carries its revision as the event id and its payload under the proto field name")
    func change() throws {
        let event = MeshEvent(
            revision: 42, occurredAtMs: 7, kind: .replicaReady,
            payload: .replicaReady(Replica(id: "r1", deploymentId: "m@1", model: "m", version: 1, workerId: "w1", state: .ready)))
        let frame = ServerSentEvents.frame(event)
        #expect(frame.hasPrefix("event: mesh\nid: 42\ndata: {"))
        #expect(frame.hasSuffix("}\n\n"))
        #expect(frame.split(separator: "\n").count == 3)  // one data line: the JSON has no newline
        let object = try data(frame)
        #expect(object["kind"] as? String == "REPLICA_READY")
        let replica = try #require(object["replica_ready"] as? [String: Any])
        #expect(replica["state"] as? String == "READY" && replica["worker_id"] as? String == "w1")
    }

    @Test("snapshots are `snapshot` or `reset`; load reports carry no id; heartbeats are comments")
    func kinds() {
        let snapshot = MeshEvent(revision: 5, kind: .snapshot, payload: .snapshot(Snapshot(reset: false)))
        let reset = MeshEvent(revision: 9, kind: .snapshot, payload: .snapshot(Snapshot(reset: true)))
        let load = MeshEvent(revision: 9, kind: .loadReported, payload: .loadReported(LoadReport(workerId: "w1")))
        let heartbeat = MeshEvent(revision: 9, kind: .heartbeat, payload: .heartbeat(Heartbeat()))
        #expect(ServerSentEvents.frame(snapshot).hasPrefix("event: snapshot\nid: 5\n"))
        #expect(ServerSentEvents.frame(reset).hasPrefix("event: reset\nid: 9\n"))
        #expect(ServerSentEvents.frame(load).hasPrefix("event: load\ndata: "))
        #expect(!ServerSentEvents.frame(load).contains("\nid: "))
        #expect(ServerSentEvents.frame(heartbeat) == ": heartbeat 9\n\n")
    }

    @Test("the resume point: Last-Event-ID first, then ?since=, else 0; anything else is refused")
    func resume() {
        #expect(ServerSentEvents.resumeRevision(lastEventID: "17", since: "3") == 17)
        #expect(ServerSentEvents.resumeRevision(lastEventID: nil, since: "3") == 3)
        #expect(ServerSentEvents.resumeRevision(lastEventID: "", since: "") == 0)
        #expect(ServerSentEvents.resumeRevision(lastEventID: "x", since: "") == nil)
        #expect(ServerSentEvents.resumeRevision(lastEventID: nil, since: "-1") == nil)
    }
}

@Suite("gRPC status to HTTP, and request bodies")
struct GatewayMappingTests {
    @Test("each gRPC code has its HTTP status")
    func statuses() {
        let expected: [(StatusCode, Int)] = [
            (.unauthenticated, 401), (.permissionDenied, 403), (.notFound, 404), (.invalidArgument, 400),
            (.alreadyExists, 409), (.failedPrecondition, 409), (.resourceExhausted, 429), (.unavailable, 503),
            (.deadlineExceeded, 504), (.dataLoss, 500), (.unimplemented, 501),
        ]
        for (code, status) in expected {
            #expect(HTTPErrorMapping.httpStatus(code).code == status, "\(code)")
        }
    }

    @Test("a wait the server sends as retry-after-ms becomes Retry-After (seconds, rounded up) and retry_after_ms")
    func retryAfter() {
        for (milliseconds, seconds) in [("1", "1"), ("1000", "1"), ("1001", "2"), ("0", "0")] {
            let error = RPCError(code: .resourceExhausted, message: "busy", metadata: ["retry-after-ms": .string(milliseconds)])
            #expect(HTTPErrorMapping.headers(error)[.retryAfter] == seconds)
            #expect(HTTPErrorMapping.body(error)["retry_after_ms"] as? Int == Int(milliseconds))
        }
        let plain = RPCError(code: .resourceExhausted, message: "too large")
        #expect(HTTPErrorMapping.headers(plain)[.retryAfter] == nil && HTTPErrorMapping.body(plain)["retry_after_ms"] == nil)
        let garbled = RPCError(code: .resourceExhausted, message: "busy", metadata: ["retry-after-ms": "soon"])
        #expect(HTTPErrorMapping.headers(garbled)[.retryAfter] == nil)
    }

    /// Whether `body` throws INVALID_ARGUMENT with `text` in its message.
    private func refused(mentioning text: String, _ body: () throws -> Void) -> Bool {
        do {
            try body()
            return false
        } catch let error as RPCError {
            return error.code == .invalidArgument && error.message.contains(text)
        } catch {
            return false
        }
    }

    @Test("a field of the wrong type is INVALID_ARGUMENT naming it; absent fields are zero values")
    func body() throws {
        let body = try JSONBody(Data(#"{"k": 5, "flag": true, "name": "m", "seeds": ["a"], "v": "production"}"#.utf8))
        #expect(try body.integer("k", as: UInt32.self) == 5)
        #expect(try body.bool("flag"))
        #expect(try body.string("missing") == "")
        #expect(try body.strings("seeds") == ["a"])
        #expect(try body.selector("v")?.alias == "production")
        #expect(refused(mentioning: "'flag'") { _ = try body.integer("flag", as: UInt32.self) })
        #expect(refused(mentioning: "'k'") { _ = try body.string("k") })
        let negative = try JSONBody(Data(#"{"k": -1, "x": 1.5}"#.utf8))
        #expect(refused(mentioning: "'k'") { _ = try negative.integer("k", as: UInt32.self) })
        #expect(refused(mentioning: "'x'") { _ = try negative.integer("x", as: Int64.self) })
        #expect(refused(mentioning: "JSON object") { _ = try JSONBody(Data("[1]".utf8)) })
    }
}

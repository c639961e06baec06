import Testing

@testable import RPCCore

@Suite("Metadata")
struct MetadataTests {
    @Test("keys are lower-cased on every way in, and lookups ignore case")
    func lowerCasing() {
        var metadata: Metadata = ["X-Request-ID": "42"]
        metadata.add("v", forKey: "Authorization")
        metadata.add(binary: [1, 2], forKey: "Trace-BIN")
        metadata.add(Metadata.Entry(key: "raw-key", value: .string("kept")))
        #expect(metadata.map(\.key) == ["x-request-id", "authorization", "trace-bin", "raw-key"])
        #expect(metadata.firstString(forKey: "x-request-id") == "42")
        #expect(metadata.firstString(forKey: "X-REQUEST-ID") == "42")
        #expect(metadata.firstString(forKey: "AUTHORIZATION") == "v")
        #expect(metadata.firstBinary(forKey: "trace-bin") == [1, 2])
        #expect(metadata.count == 4)
    }

    @Test("binary and string values are kept apart")
    func binaryVersusString() {
        var metadata = Metadata()
        metadata.add(binary: [0xDE, 0xAD], forKey: "x-data-bin")
        metadata.add("text", forKey: "x-data-bin")
        metadata.add("plain", forKey: "x-plain")
        #expect(metadata.firstBinary(forKey: "x-data-bin") == [0xDE, 0xAD])
        #expect(metadata.firstString(forKey: "x-data-bin") == "text")
        #expect(metadata.firstBinary(forKey: "x-plain") == nil)
        #expect(metadata.firstString(forKey: "absent") == nil)
        #expect(metadata["x-data-bin"] == [.binary([0xDE, 0xAD]), .string("text")])
        #expect(Metadata.isBinaryKey("x-data-bin"))
        #expect(!Metadata.isBinaryKey("x-data"))
        #expect(!Metadata.isBinaryKey("x-bin-data"))
    }

    @Test("repeated keys keep their order; removeAll removes every value")
    func orderAndRemoval() {
        var metadata = Metadata()
        for value in ["a", "b", "c"] { metadata.add(value, forKey: "k") }
        metadata.add("other", forKey: "j")
        #expect(metadata["K"] == [.string("a"), .string("b"), .string("c")])
        #expect(metadata.firstString(forKey: "k") == "a")
        metadata.removeAll(forKey: "K")
        #expect(metadata["k"].isEmpty)
        #expect(metadata.count == 1)
        #expect(!metadata.isEmpty)
        metadata.removeAll(forKey: "j")
        #expect(metadata.isEmpty)
    }

    @Test("equality depends on order and kind")
    func equality() {
        let a: Metadata = ["k": "1", "j": "2"]
        let b: Metadata = ["K": "1", "J": "2"]
        let c: Metadata = ["j": "2", "k": "1"]
        #expect(a == b)
        #expect(a != c)
        var d = Metadata()
        d.add(binary: Array("1".utf8), forKey: "k")
        d.add("2", forKey: "j")
        #expect(a != d)
    }

    @Test(
        "reserved keys",
        arguments: [":path", ":authority", ":status", "content-type", "te", "grpc-timeout", "grpc-encoding",
                    "grpc-accept-encoding", "grpc-status", "grpc-message", "user-agent", "content-length", "host",
                    "connection", "accept-encoding"]
    )
    func reserved(key: String) {
        #expect(Metadata.isReserved(key))
    }

    @Test("custom keys are not reserved", arguments: ["authorization", "x-grpc-test-echo-initial", "trace-bin", "grpc-trace-bin", "x-te"])
    func notReserved(key: String) {
        #expect(!Metadata.isReserved(key))
    }
}

@Suite("MethodDescriptor")
struct MethodDescriptorTests {
    @Test("parses /service/method")
    func valid() throws {
        let descriptor = try #require(MethodDescriptor(path: "/grpc.testing.TestService/UnaryCall"))
        #expect(descriptor.service == "grpc.testing.TestService")
        #expect(descriptor.method == "UnaryCall")
        #expect(descriptor.path == "/grpc.testing.TestService/UnaryCall")
        #expect(descriptor.description == descriptor.path)
        #expect(descriptor == MethodDescriptor(service: "grpc.testing.TestService", method: "UnaryCall"))
        #expect(MethodDescriptor(path: "/a/b") == MethodDescriptor(service: "a", method: "b"))
    }

    @Test("refuses other paths", arguments: ["", "/", "//", "/svc", "/svc/", "//method", "svc/method", "/a/b/c", "a", "/a//b"])
    func invalid(path: String) {
        #expect(MethodDescriptor(path: path) == nil)
    }
}

@Suite("StatusCode and RPCError")
struct StatusTests {
    @Test("wire values map both ways; unknown numbers become UNKNOWN")
    func wireValues() {
        for value in Int32(0)...16 { #expect(StatusCode(wireValue: value).rawValue == value) }
        #expect(StatusCode(wireValue: 17) == .unknown)
        #expect(StatusCode(wireValue: -1) == .unknown)
        #expect(StatusCode.resourceExhausted.description == "RESOURCE_EXHAUSTED")
        #expect(StatusCode.internalError.description == "INTERNAL")
        #expect(StatusCode.unauthenticated.rawValue == 16)
    }

    struct Domain: RPCErrorConvertible {
        var rpcError: RPCError { RPCError(code: .notFound, message: "no such model") }
    }
    struct Other: Error {}

    @Test("errors map to statuses")
    func mapping() {
        let error = RPCError(code: .aborted, message: "x")
        #expect(RPCError(mapping: error) == error)
        #expect(RPCError(mapping: Domain()).code == .notFound)
        #expect(RPCError(mapping: CancellationError()).code == .cancelled)
        #expect(RPCError(mapping: Other()).code == .unknown)
    }
}

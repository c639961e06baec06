import Testing

@testable import RPCHTTP2

@Suite("BindAddress: which bind addresses may serve plaintext")
struct BindAddressTests {
    @Test("loopback addresses and localhost", arguments: ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"])
    func loopback(host: String) {
        #expect(BindAddress.isLoopback(host))
    }

    @Test("every-interface, routable and unknown names are not loopback",
          arguments: ["0.0.0.0", "::", "10.0.0.1", "192.168.1.4", "2001:db8::1", "::ffff:10.0.0.1", "example.com", "", "128.0.0.1"])
    func notLoopback(host: String) {
        #expect(!BindAddress.isLoopback(host))
    }
}

@Suite("ServerNameCheck: the name on a server certificate")
struct ServerNameCheckTests {
    @Test("exact names, any case, a final dot ignored")
    func exact() {
        #expect(ServerNameCheck.matches("foo.test.google.fr", dnsNames: ["localhost", "foo.test.google.fr"]))
        #expect(ServerNameCheck.matches("Foo.Test.Google.FR.", dnsNames: ["foo.test.google.fr"]))
        #expect(!ServerNameCheck.matches("bar.test.google.fr", dnsNames: ["foo.test.google.fr"]))
        #expect(!ServerNameCheck.matches("localhost", dnsNames: []))
    }

    @Test("a wildcard stands for exactly the first label")
    func wildcard() {
        #expect(ServerNameCheck.matches("a.example.com", dnsNames: ["*.example.com"]))
        #expect(!ServerNameCheck.matches("example.com", dnsNames: ["*.example.com"]))
        #expect(!ServerNameCheck.matches("a.b.example.com", dnsNames: ["*.example.com"]))
        #expect(!ServerNameCheck.matches("a.com", dnsNames: ["*.com"]))
    }
}

@Suite("TLSHandshakeError: readable reasons")
struct TLSHandshakeErrorTests {
    @Test("BoringSSL's reason codes without numbers and paths, with a hint")
    func reasons() {
        let raw = "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435581 error:1000007d:SSL routines:"
            + "OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at /x/handshake.cc:320]))"
        #expect(TLSHandshakeError.reasons(in: raw) == "CERTIFICATE_VERIFY_FAILED")
        #expect(TLSHandshakeError.describe(RawError(text: raw)).hasSuffix("does not chain to a trusted CA (check the CA file)"))
        #expect(TLSHandshakeError.reasons(in: "plain words") == "plain words")
    }

    struct RawError: Error, CustomStringConvertible {
        let text: String
        var description: String { text }
    }
}

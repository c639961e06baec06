import Testing

@testable import AIMassEtcd

@Suite("etcd endpoints and keys")
struct EtcdEndpointTests {
    @Test("--etcd takes http:// and https:// URLs or HOST:PORT, separated by commas")
    func parses() throws {
        let endpoints = try EtcdEndpoint.parseList("http://127.0.0.1:2379, etcd-2:22379,http://[::1]:2379/,https://etcd-3:2379")
        #expect(endpoints == [
            EtcdEndpoint(host: "127.0.0.1", port: 2379), EtcdEndpoint(host: "etcd-2", port: 22379),
            EtcdEndpoint(host: "::1", port: 2379), EtcdEndpoint(host: "etcd-3", port: 2379, tls: true),
        ])
        #expect(endpoints.map(\.tls) == [false, false, false, true])
    }

    @Test("Bad endpoints are refused with the part that is wrong", arguments: [
        ("", "no etcd endpoint"), ("https://a", "https://a: expected"), ("a", "a: expected"), ("a:0", "a:0: expected"),
        ("http://:2379", "expected"), ("a:99999", "expected"),
    ])
    func refuses(text: String, mentions: String) {
        #expect {
            try EtcdEndpoint.parseList(text)
        } throws: { error in
            "\(error)".contains(mentions)
        }
    }

    @Test("A prefix's range end is the prefix with its last byte below 0xff incremented")
    func prefixEnd() {
        #expect(EtcdClient.prefixEnd(Array("/aimass/state/".utf8)) == Array("/aimass/state0".utf8))
        #expect(EtcdClient.prefixEnd([0x61, 0xff]) == [0x62])
        #expect(EtcdClient.prefixEnd([0xff, 0xff]) == [0])
    }

    @Test("A member that is down or cut off is failed over; a wrong request is not")
    func memberFailures() {
        #expect(EtcdClient.isMemberFailure(RPCErrorFixture.unavailable))
        #expect(EtcdClient.isMemberFailure(RPCErrorFixture.deadline))
        #expect(!EtcdClient.isMemberFailure(RPCErrorFixture.invalid))
        #expect(!EtcdClient.isMemberFailure(CancellationError()))
    }
}

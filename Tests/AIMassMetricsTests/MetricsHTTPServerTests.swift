import Glibc
import Metrics
import Testing

@testable import AIMassMetrics

@Suite("The /metrics listener")
struct MetricsHTTPServerTests {
    @Test("GET /metrics answers the exposition; other paths 404, other methods 405; bad requests get 400 and it lives on")
    func answers() async throws {
        let exporter = PrometheusExporter()
        Counter(label: "aimass_registry_uploads_total", dimensions: [("model", "films"), ("outcome", "ok")], factory: exporter)
            .increment(by: 3)
        let server = MetricsHTTPServer(host: "127.0.0.1", port: 0) { exporter.render() }
        let port = try #require(try await server.start().port)
        defer { Task { await server.shutdown() } }

        let ok = try await RawHTTP.exchange(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(ok.lowercased().contains("content-type: text/plain; version=0.0.4; charset=utf-8"))
        #expect(ok.contains(#"aimass_registry_uploads_total{model="films",outcome="ok"} 3"#))
        #expect(ok.contains("# HELP aimass_registry_uploads_total "))

        let query = try await RawHTTP.exchange(port: port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n")
        #expect(query.hasPrefix("HTTP/1.0 200 OK\r\n"))

        let missing = try await RawHTTP.exchange(port: port, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        let post = try await RawHTTP.exchange(
            port: port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        #expect(post.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))

        let garbage = try await RawHTTP.exchange(port: port, "\u{1}\u{2} not http at all\r\n\r\n")
        #expect(garbage.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        let after = try await RawHTTP.exchange(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(after.hasPrefix("HTTP/1.1 200 OK\r\n"), "still serving after a bad request")

        // Two requests on one keep-alive connection.
        let twice = try await RawHTTP.exchange(
            port: port,
            "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(twice.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
    }
}

/// Sends raw bytes over TCP with a blocking socket and reads until the server closes (a 60 s receive timeout only
/// catches hangs).
enum RawHTTP {
    static func exchange(port: Int, _ request: String) async throws -> String {
        try await Task.detached { try blockingExchange(port: port, Array(request.utf8)) }.value
    }

    struct SocketError: Error {
        var what: String
    }

    private static func blockingExchange(port: Int, _ request: [UInt8]) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(what: "socket") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SocketError(what: "connect") }
        guard send(fd, request, request.count, 0) == request.count else { throw SocketError(what: "send") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { break }
            guard count > 0 else { throw SocketError(what: "recv (timed out?)") }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}

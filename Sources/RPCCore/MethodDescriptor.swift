/// A method's full name: `package.Service` and `Method`, forming the HTTP/2 path `/package.Service/Method`.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// The fully qualified service name, e.g. `grpc.health.v1.Health`.
    public var service: String
    /// The method name, e.g. `Check`.
    public var method: String

    public init(service: String, method: String) {
        self.service = service
        self.method = method
    }

    /// Parses a `:path` of the form `/service/method`.
    public init?(path: String) {
        guard path.first == "/" else { return nil }
        let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.service = String(parts[0])
        self.method = String(parts[1])
    }

    /// The HTTP/2 `:path`.
    public var path: String { "/\(service)/\(method)" }

    public var description: String { path }
}

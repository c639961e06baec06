import RPCCore

/// gRPC server reflection, `grpc.reflection.v1.ServerReflection` and its older twin `grpc.reflection.v1alpha`
/// (the same messages on the wire), answered from embedded descriptor sets (see ``DescriptorIndex``).
///
/// It is public, as health is: it tells what the server's API is, which the `.proto` files in the repository
/// already say, never anything about models or data; every method it describes still checks its own credentials.
///
/// ```swift
/// let reflection = try ReflectionService(files: DescriptorSets.grpcHealthV1, services: [HealthService.serviceName])
/// let server = RPCServer(services: [health, reflection])
/// ```
public struct ReflectionService: RPCService {
    /// `grpc.reflection.v1.ServerReflection/ServerReflectionInfo`.
    public static let v1 = ServerReflectionMethods.serverReflectionInfo
    /// `grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo`, which grpcio-reflection's client and older
    /// tools still call.
    public static let v1alpha = MethodDescriptor(
        service: "grpc.reflection.v1alpha.ServerReflection",
        method: "ServerReflectionInfo"
    )

    /// What the service answers from.
    public let index: DescriptorIndex

    /// A service listing `services` (plus both reflection services) from `files`, which must hold every one of them
    /// with its imports, and both reflection protos.
    ///
    /// - Throws: ``DescriptorIndex/Error`` when they do not.
    public init(files: [ReflectionFile], services: [String]) throws(DescriptorIndex.Error) {
        index = try DescriptorIndex(files: files, services: services + [Self.v1.service, Self.v1alpha.service])
    }

    public func registerMethods(with router: inout RPCRouter) {
        for method in [Self.v1, Self.v1alpha] {
            router.registerBidirectionalStreaming(method) {
                (requests: RPCRequestStream<ServerReflectionRequest>, responses: RPCWriter<ServerReflectionResponse>, _)
                in
                var sent: Set<String> = []
                for try await request in requests {
                    try await responses.write(index.answer(request, sent: &sent))
                }
            }
        }
    }
}

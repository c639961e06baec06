import AIMassAPI
import RPCReflection

/// What server reflection describes: every service this project serves, from the descriptor sets that
/// scripts/generate-protos.sh embeds (``DescriptorSets``).
enum ServedAPI {
    /// Every file reflection may be asked for.
    static let files: [ReflectionFile] =
        DescriptorSets.aimassV1 + DescriptorSets.inference + DescriptorSets.grpcHealthV1
        + DescriptorSets.grpcReflectionV1 + DescriptorSets.grpcReflectionV1alpha

    /// The reflection service of a server that serves `services` (reflection itself is added).
    ///
    /// - Throws: ``DescriptorIndex/Error`` when a service has no descriptor: a build mistake, found at start-up.
    static func reflection(services: [String]) throws -> ReflectionService {
        try ReflectionService(files: files, services: services)
    }
}

import RPCCore

/// The method descriptors of one service as constants (scripts/gen-swift-messages.py writes one enum a service): the
/// service's full name once, each method by its name.
public protocol ServiceMethods {
    /// The service's full name, e.g. `aimass.v1.ModelRegistry`.
    static var serviceName: String { get }
}

extension ServiceMethods {
    /// The descriptor of the service's method `name`, e.g. `GetModel`.
    public static func method(_ name: String) -> MethodDescriptor {
        MethodDescriptor(service: serviceName, method: name)
    }
}
